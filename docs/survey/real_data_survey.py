"""Every measured dataset of the catalog fitted with the KKI and the STM models through the command line.

Run: GLASSFIT_DATA_DIR=../shared/datasets python docs/survey/real_data_survey.py [OUT]   (≈ 3 min)

Each κ(T) dataset is fitted by ``glassfit fit ID --model kki|stm --method leastsq`` with no hand-set starting
values: the global search (Latin-hypercube multistart, seed 0) finds the MAP inside the prior support.  The
set-up is the same for every material and is printed with the table: the KKI potential scales w, η_L, ξ_L
fixed at the reference glass (``glassfit models kki_conductivity``), χ₂ = χ₁, and log10 N fixed there too,
since κ(T) depends on N and χ only through N χ² (an exact degeneracy: one of them must be fixed or given a
prior, and C_eff carries what the data say); no sound velocities are
published for these materials, so v_l has a log-normal prior (median 3000 m/s, σ_ln 0.4) and v_t = v_l/2,
ρ the model default.  The table (Markdown, also as CSV) goes to ``docs/survey/real_data_survey.md``; the
README quotes it.  Columns: χ²_ν of each family, the combinations the data constrain with their 1σ errors
(known σ, no χ²_ν rescaling), ΔBIC = BIC(KKI) − BIC(STM) (negative favours KKI), the number of distinct
local optima the search found, and the data flags.  A compact version replaces the table between the
survey markers in README.md.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from glassfit import checks, datasets

HERE = Path(__file__).resolve().parent
README = HERE.parent.parent / "README.md"
MARK_START, MARK_END = "<!-- survey table: docs/survey/real_data_survey.py -->", "<!-- end of survey table -->"
COMMON = ["--method", "leastsq", "--tie", "v_t=0.5*v_l", "--prior", "v_l=lognormal(3000, 0.4)"]
FAMILY = {"kki": ["--model", "kki", "--tie", "chi_2=chi_1", "--fix", "log10_N"], "stm": ["--model", "stm"]}


def fit(dataset_id: str, family: str, out: Path) -> tuple[dict, float]:
    """Run the CLI fit; its summary.json and the wall time [s]."""
    t0 = time.perf_counter()
    target = out / f"{dataset_id}-{family}"
    command = ["glassfit", "--quiet", "fit", dataset_id, *FAMILY[family], *COMMON, "--out", str(target)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads((target / "summary.json").read_text()), time.perf_counter() - t0


def derived(summary: dict, name: str, scale: float = 1.0) -> str:
    for row in summary["derived"]:
        if row["name"] == name:
            return f"{row['value'] * scale:.3g} ± {row['error'] * scale:.2g}"
    return "—"


def short_flags(kki: dict, stm: dict) -> str:
    """The flags and warnings of both fits in a few words (the full lines are in real_data_survey.md)."""
    words = ["not T² (resonant regime)" for _ in kki["flags"][:1]]
    words += [w.split(" (")[0] for w in kki["warnings"] if w.startswith("kT > w/25")]
    words += [f"{family} {w.split(' = ')[0]} on a bound" for family, s in (("KKI", kki), ("STM", stm))
              for w in s["warnings"] if "edge of its prior support" in w]
    return "; ".join(words) or "—"


def row(entry, kki: dict, stm: dict, seconds: float) -> dict:
    data = datasets.load(entry.id)
    c = {r["name"]: r for r in stm["parameters"]}["C"]
    return {"dataset": entry.id, "T (K)": f"{entry.ranges['T'][0]:.3g}–{entry.ranges['T'][1]:.3g}",
            "points": entry.points, "d ln κ/d ln T": f"{checks.log_slope(data.x['T'], data.y):.2f}",
            "STM χ²_ν": f"{stm['redchi']:.2f}", "STM C (1e-4)": f"{c['value']:.3g} ± {c['stderr']:.2g}",
            "STM C·v_l (m/s)": derived(stm, "C_v_l"),
            "KKI χ²_ν": f"{kki['redchi']:.2f}", "KKI C_eff(3kT) (1e-4)": derived(kki, "C_eff", 1e4),
            "KKI μ": derived(kki, "mu"), "ΔBIC": f"{kki['bic'] - stm['bic']:+.1f}",
            "KKI optima": kki["search"]["n_optima"], "fit time (s)": f"{seconds:.0f}",
            "flags": short_flags(kki, stm),
            "full flags and warnings": " / ".join(kki["flags"] + kki["warnings"] + stm["warnings"]) or "—"}


def markdown(rows, columns) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]


def main(out: Path | None = None) -> int:
    entries = [e for e in datasets.catalog().values() if e.nature != "synthetic"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = out or Path(tmp)
        for entry in entries:
            (kki, t_kki), (stm, t_stm) = fit(entry.id, "kki", work), fit(entry.id, "stm", work)
            rows.append(row(entry, kki, stm, t_kki + t_stm))
            print(f"{entry.id}: KKI χ²_ν {kki['redchi']:.2f}, STM χ²_ν {stm['redchi']:.2f} ({t_kki + t_stm:.0f} s)",
                  file=sys.stderr)
    setup = ("Set-up: `glassfit fit ID --method leastsq --tie v_t=0.5*v_l --prior \"v_l=lognormal(3000, 0.4)\"` with "
             "`--model kki --tie chi_2=chi_1 --fix log10_N` or `--model stm`; seed 0; σ = 3 % of κ (digitized data). "
             "Generated by `docs/survey/real_data_survey.py`.")
    header = [c for c in rows[0] if c != "full flags and warnings"]
    (HERE / "real_data_survey.md").write_text("\n".join([setup, "", *markdown(rows, list(rows[0]))]) + "\n")
    with open(HERE / "real_data_survey.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    compact = [c for c in header if c not in ("points", "KKI optima", "fit time (s)")]
    readme = README.read_text()
    start, end = readme.index(MARK_START) + len(MARK_START), readme.index(MARK_END)
    README.write_text(readme[:start] + "\n" + "\n".join(markdown(rows, compact)) + "\n" + readme[end:])
    print("\n".join(markdown(rows, header)))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
