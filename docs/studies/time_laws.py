"""KKI against the STM in the time domain, on SYNTHETIC data: runs docs/studies/time-laws.toml and checks its search.

Runs the study beside this file through :mod:`glassfit.study` (a LocalCluster of this machine's cores, or
``--scheduler``; an interrupted run resumes, a finished one is only summarised), up to ``--replicates`` per cell
(default: the file's; raising it later extends the same results file), and writes ``time-laws-summary.csv``,
``time-laws.png`` and the table between the ``time-laws`` markers of README.md.

``--check K`` also runs the first K replicates of every cell with the full multistart alone (``search = "full"``,
the same data: the seeds are per replicate) into ``time-laws-full-search.h5`` and compares each law's χ² with the
study's own search, replicate by replicate: ``time-laws-search-check.csv`` and the ``time-laws-search`` table.

Run: python docs/studies/time_laws.py [--replicates N] [--check K] [--workers N | --scheduler ADDRESS]
"""

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
from readme import write_table

from glassfit import study, time_laws

HERE = Path(__file__).parent
SPEC = HERE / "time-laws.toml"
#: χ² differences below this count as the same optimum
SAME = 0.01


def summary_lines(table: pd.DataFrame, seconds: dict[str, float]) -> list[str]:
    """The README's table of the study: one row per cell."""
    lines = ["| truth | design | replicates | true law wins (95 % interval) | ΔBIC 16 % | 50 % | 84 % | "
             "s a replicate |", "|---|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        cost = seconds[f"{row.truth} | {row.design}"]
        lines.append(f"| {row.truth} | {row.design} | {row.replicates} | {row.truth_wins:.0%} "
                     f"({row.truth_wins_low:.0%}–{row.truth_wins_high:.0%}) | {row.delta_bic_16:.1f} | "
                     f"{row.delta_bic_50:.1f} | {row.delta_bic_84:.1f} | {cost:.1f} |")
    return lines


def search_check(spec: study.Study, full: study.Study) -> pd.DataFrame:
    """Per cell and law: replicates compared, the largest χ²(study search) − χ²(full search), how many replicates
    the study's search ends worse or better by more than :data:`SAME`, and the median seconds a replicate of each
    (of all the study's replicates of the cell: its first in a process also finds the noise-free optima)."""
    ours, theirs = study.read_results(spec.results), study.read_results(full.results)
    rows = []
    for label, reference in theirs.items():
        mine = ours.get(label)
        if mine is None:
            continue
        both = mine.merge(reference, on="replicate", suffixes=("", "_full"))
        for law in time_laws.LAWS:
            gap = (both[f"chi2[{law}]"] - both[f"chi2[{law}]_full"]).to_numpy()
            rows.append({"cell": label, "law": law, "replicates": gap.size, "worst_gap": float(np.max(gap)),
                         "worse": int(np.sum(gap > SAME)), "better": int(np.sum(gap < -SAME)),
                         "seconds_study": float(mine[study.SECONDS].median()),
                         "seconds_full": float(reference[study.SECONDS].median())})
    return pd.DataFrame(rows)


def check_lines(check: pd.DataFrame) -> list[str]:
    """The README's table of the search check: one row per cell, both laws."""
    lines = ["| truth | design | replicates | largest χ² gap, KKI / STM | worse | better | median s a replicate "
             "(study / full) |", "|---|---|---|---|---|---|---|"]
    for cell, rows in check.groupby("cell", sort=False):
        truth, design = cell.split(" | ")
        gaps = " / ".join(f"{rows.loc[rows['law'] == law, 'worst_gap'].iloc[0]:.1g}" for law in time_laws.LAWS)
        first = rows.iloc[0]
        lines.append(f"| {truth} | {design} | {first.replicates} | {gaps} | {rows['worse'].sum()} | "
                     f"{rows['better'].sum()} | {first.seconds_study:.1f} / {first.seconds_full:.1f} |")
    fits, worse = int(check["replicates"].sum()), int(check["worse"].sum())
    ours, full = check["seconds_study"].median(), check["seconds_full"].median()
    lines += ["", f"{fits - worse} of {fits} fits end within {SAME} of the full search's χ² or below it; the largest "
              f"gap is {check['worst_gap'].max():.2g}. The study's search takes a median {ours:.1f} s a replicate, "
              f"the full search {full:.1f} s."]
    return lines


def run(spec: study.Study, args) -> None:
    done = study.run(spec, workers=args.workers, scheduler=args.scheduler)
    print(f"{spec.results.name}: {done.ran} tasks in {done.elapsed:.0f} s on {done.workers} workers; "
          f"{done.skipped} replicates were done, {done.left} tasks left")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, help="replicates per cell to reach now (default: the file's)")
    parser.add_argument("--check", type=int, default=0, help="replicates per cell to rerun with the full search")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--scheduler")
    args = parser.parse_args()
    spec = study.load(SPEC)
    if args.replicates:
        spec = dataclasses.replace(spec, replicates=min(args.replicates, spec.replicates))
    run(spec, args)
    table, files = study.summarize(spec)
    results = study.read_results(spec.results)
    seconds = {label: float(t[study.SECONDS].mean()) for label, t in results.items()}
    total = sum(float(t[study.SECONDS].sum()) for t in results.values())
    print(f"{sum(len(t) for t in results.values())} replicates, {total / 3600:.2f} worker-hours")
    write_table("time-laws", summary_lines(table, seconds))
    print(table.to_string(index=False), "\nwrote", *files)
    if args.check:
        full = dataclasses.replace(spec, plan=dataclasses.replace(spec.plan, search="full"),
                                   section=spec.section | {"search": "full"}, replicates=args.check,
                                   results=HERE / "time-laws-full-search.h5")
        run(full, args)
        check = search_check(spec, full)
        check.to_csv(HERE / "time-laws-search-check.csv", index=False, float_format="%.4g")
        write_table("time-laws-search", check_lines(check))
        print(check.to_string(index=False))


if __name__ == "__main__":
    main()
