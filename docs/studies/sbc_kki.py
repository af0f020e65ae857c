"""Simulation-based calibration of the KKI posteriors of c(T), κ(T) and both jointly, on SYNTHETIC data.

Runs the studies ``sbc-kki.toml`` (emcee) and ``sbc-kki-nested.toml`` (the c(T) case by nested sampling, on the
same datasets) beside this file through :mod:`glassfit.study` (a LocalCluster of this machine's cores; an
interrupted run resumes, a finished one is only summarised) and writes, for each, ``<name>-summary.csv``,
``<name>.png`` and the table between the ``<name>`` markers of README.md.

Run: python docs/studies/sbc_kki.py [--workers N | --scheduler ADDRESS]   (≈ 100 min and 2.5 h on 2 cores)
"""

import argparse
from pathlib import Path

from readme import write_table

from glassfit import study

HERE = Path(__file__).parent
STUDIES = ("sbc-kki", "sbc-kki-nested")


def markdown(table) -> list[str]:
    """The README's table: one row per (case, parameter)."""
    lines = ["| case | parameter | replicates | rank χ² p | ECDF in 95 % band | 50 % | 68 % | 95 % | contraction |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(f"| {row.case} | {row.parameter} | {row.replicates} | {row.rank_chi2_p:.2f} | "
                     f"{'yes' if row.ecdf_inside_band else '**no**'} | {row.coverage_50:.1%} | {row.coverage_68:.1%} | "
                     f"{row.coverage_95:.1%} | {row.contraction:.3f} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int)
    parser.add_argument("--scheduler")
    args = parser.parse_args()
    for name in STUDIES:
        spec = study.load(HERE / f"{name}.toml")
        done = study.run(spec, workers=args.workers, scheduler=args.scheduler)
        print(f"{name}: {done.ran} tasks in {done.elapsed:.0f} s on {done.workers} workers; {done.skipped} replicates "
              "were done")
        table, files = study.summarize(spec)
        for cell, t in study.read_results(spec.results).items():
            print(f"{cell}: {t[study.SECONDS].mean():.1f} s a replicate, {t[study.SECONDS].sum() / 3600:.2f} "
                  "worker-hours")
        write_table(name, markdown(table))
        print(table.to_string(index=False), "\nwrote", *files)


if __name__ == "__main__":
    main()
