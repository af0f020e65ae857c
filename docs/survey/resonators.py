"""Every superconducting-resonator dataset of the catalog fitted with the STM and the KKI dielectric-TLS models through
the command line, and the NbN Q_i(T) examined before any loss fit.

Run: GLASSFIT_DATA_DIR=../shared/datasets python docs/survey/resonators.py [OUT]   (≈ 2 min on 2 cores)

Fits (``glassfit fit ... --method leastsq``, global multistart search, seed 0, no starting values given):

* Nb CPW (measured, philzghub): δf/f(T) alone, Q_i(T, n) at its five photon numbers jointly (β free), and both
  jointly with one F δ⁰; T ≤ 0.9 K, where KKI's two-level description holds (kT ≤ w/25) and the Nb
  quasiparticles are negligible.  No σ is published: a fitted relative σ per loss dataset (``--noise fitted``),
  one fitted σ for δf/f (``absolute``: it is 0 at 100 mK by construction).
* NbN (derived from the raw S21 sweeps by datasets/reduce_resonators.py): each (resonator, power) series' δf/f(T)
  at T ≤ 0.9 K by both models, and over the whole 0.09–2.48 K by the STM with the Mattis–Bardeen terms (T_c and
  α_k free).  The sweeps' fit errors σ_f0 are 10–300× smaller than the point-to-point scatter of f0 (thermometry,
  drift), so σ is fitted here too (``absolute``).
* KKI: the reference glass's shape (η_c, ξ_c, w, η_L, ξ_L) and e* = 0.1 e held, log10 N free: δf/f(T) of one
  resonator fixes the amplitude N e*² and cannot separate it from the shape parameters (a free η_c, ξ_c run to
  their bounds), so F δ⁰_eff = π C_e(ħω) is what is reported.

With σ fitted, AIC and BIC come from −2 ln L (glassfit.compare.FitStatistics); ΔBIC = BIC(KKI) − BIC(STM).
Writes docs/survey/resonators.md, resonators.csv and resonators.png and replaces the table between the resonator
markers of README.md.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from glassfit import datasets
from glassfit.models import STMResonatorLossModel

HERE = Path(__file__).resolve().parent
README = HERE.parent.parent / "README.md"
MARK_START, MARK_END = "<!-- resonator table: docs/survey/resonators.py -->", "<!-- end of resonator table -->"
TLS_WINDOW = ["--window", "T=0:0.9"]
KKI = ["--model", "kki", "--fix", "eta_c", "--fix", "xi_c", "--fix", "e_star"]
STM = ["--model", "stm"]
NB_LOSS = [f"nb-cpw-loss-{p}dbm" for p in (80, 100, 120, 140, 160)]
#: RES-3 at −50 dBm (flagged noisy) has Q_c known to ±30–135 %, so its photon numbers 2Q_l²P/(Q_c ħω²) scatter by
#: decades (1e6–3e7 where RES-1's are 6e7): the joint Q_i(T, n) of RES-3 leaves that series out (n ≥ 1e8)
LOSS_EXTRA = {3: ["--window", "n=1e8:1e15"]}
NB_SHIFT = "nb-cpw-frequency-shift"
NBN = [e.id for e in datasets.list_datasets() if e.id.startswith("nbn-") and e.observable == "frequency_shift"]


def fit(name: str, sources: list[str], options: list[str], work: Path) -> dict:
    """Run ``glassfit fit`` and return its summary.json, with the highest temperature it kept (``t_max`` [K])."""
    target = work / name
    command = ["glassfit", "--quiet", "fit", *sources, "--method", "leastsq", *options, "--out", str(target)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    windows = [options[k + 1] for k, word in enumerate(options) if word == "--window"]
    t_max = next((float(w.split(":")[1]) for w in windows if w.startswith("T=")), np.inf)
    return json.loads((target / "summary.json").read_text()) | {"t_max": t_max}


def value(summary: dict, name: str, scale: float = 1.0) -> str:
    """"v ± e" of a parameter or derived quantity of a summary (× scale; a joint fit's first dataset's, named
    ``name[dataset]``), "—" if absent."""
    for row in summary["parameters"] + summary.get("derived", []):
        if row["name"] == name or row["name"].startswith(name + "["):
            error = row.get("stderr", row.get("error"))
            return f"{row['value'] * scale:.4g} ± {error * scale:.2g}"
    return "—"


def fitted_sigma(summary: dict, data_id: str) -> float:
    """The fitted σ of an ``absolute``-noise dataset [ppm of δf/f] at the MAP."""
    frac = {r["name"]: r["value"] for r in summary["parameters"]}[f"sigma_frac[{data_id}]"]
    data = datasets.load(data_id)
    return frac * np.ptp(data.y[data.x["T"] <= summary["t_max"]]) * 1e6


def flags(*summaries) -> str:
    """Bound hits and validity warnings of the fits, in a few words."""
    words = []
    for s in summaries:
        words += [f"{w.split(' = ')[0]} on a bound" for w in s["warnings"] if "edge of its prior support" in w]
        words += [w.split(" (")[0] for w in s["warnings"] if w.startswith(("kT > w/25", "T > 0.2 T_c"))]
    return "; ".join(dict.fromkeys(words)) or "—"


def loss_rows(runs: dict) -> list[dict]:
    """One row per NbN resonator: the STM loss fit of Q_i(T, n) at all five powers (T ≤ 0.9 K, β and ζ free), and
    the share of 1/Q_i at the lowest temperature that the TLS term makes at the highest and lowest power."""
    out = []
    model = STMResonatorLossModel()
    for k in range(1, 5):
        data_id = f"nbn-res{k}-loss"
        summary = runs[data_id]
        values = model.table_values(model.make_params()) | {p["name"]: p["value"] for p in summary["parameters"]
                                                              if p["name"] in model.param_names}
        data = datasets.load(data_id)
        coldest = data.x["T"] <= np.sort(np.unique(data.x["T"]))[4]          # the lowest temperatures of each power
        shares = []
        for pick in (np.argmax, np.argmin):                                  # most and fewest photons
            i = np.flatnonzero(coldest)[pick(data.x["n"][coldest])]
            x = {name: data.x[name][i:i + 1] for name in data.x}
            total = model.eval(**x, **values)[0]
            shares.append(1 - values["loss_bg"] * 1e-6 / total)           # α_k = 0: TLS + 1/Q_0 alone
        out.append({"data": f"RES-{k} Q_i(T, n)", "points": summary["ndata"],
                    "STM F δ⁰ (1e-6)": value(summary, "Fdelta0"), "n_c (photons)": value(summary, "n_c") + " (at 0 dB)",
                    "β": value(summary, "beta"), "ζ": value(summary, "zeta"),
                    "1/Q_0 (1e-6)": value(summary, "loss_bg"), "fitted σ of Q_i⁻¹": value(summary,
                                                                                         f"sigma_rel[{data_id}]"),
                    "TLS share of 1/Q_i at T_min, −10 dBm": f"{shares[0]:.0%}",
                    "TLS share at T_min, lowest power": f"{shares[1]:.0%}",
                    "flags": "; ".join(w for w in ("−50 dBm left out (noisy: its n scatters)" if k in LOSS_EXTRA
                                                   else "", flags(summary)) if w and w != "—") or "—"})
    return out


def markdown(rows, columns) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]


def nb_rows(runs: dict) -> list[dict]:
    """The Nb rows: shift, loss and joint, STM and KKI."""
    out = []
    for what, key in (("δf/f", "nb-shift"), ("Q_i(T, n), 5 powers", "nb-loss"), ("Q_i + δf/f", "nb-joint")):
        stm, kki = runs[f"{key}-stm"], runs[f"{key}-kki"]
        sigma = [f"{r['value']:.2g}" for r in stm["parameters"] if r["name"].startswith("sigma_rel")]
        out.append({"data": f"Nb CPW {what}", "points": stm["ndata"],
                    "STM F δ⁰ (1e-6)": value(stm, "Fdelta0"), "n_c (photons)": value(stm, "n_c"),
                    "β": value(stm, "beta"), "KKI F δ⁰_eff (1e-6)": value(kki, "Fdelta0_eff", 1e6),
                    "ΔBIC": f"{kki['bic'] - stm['bic']:+.1f}",
                    "fitted σ": (f"{fitted_sigma(stm, NB_SHIFT):.2g} ppm" if key == "nb-shift" else
                                 f"{', '.join(sigma)} of Q_i⁻¹" + (" (+ δf/f)" if key == "nb-joint" else "")),
                    "flags": flags(stm, kki)})
    return out


def nbn_rows(runs: dict) -> list[dict]:
    """One row per NbN series: TLS-only fits at T ≤ 0.9 K, and the STM with quasiparticles over the whole range."""
    out = []
    for data_id in NBN:
        stm, kki, full = runs[f"{data_id}-stm"], runs[f"{data_id}-kki"], runs[f"{data_id}-mb"]
        entry = datasets.entry(data_id)
        out.append({"data": entry.select["series"], "points": stm["ndata"],
                    "STM F δ⁰ (1e-6)": value(stm, "Fdelta0"), "KKI F δ⁰_eff (1e-6)": value(kki, "Fdelta0_eff", 1e6),
                    "ΔBIC": f"{kki['bic'] - stm['bic']:+.1f}", "σ (ppm)": f"{fitted_sigma(stm, data_id):.2g}",
                    "0.09–2.5 K: STM F δ⁰ (1e-6)": value(full, "Fdelta0"), "T_c (K)": value(full, "T_c"),
                    "α_k": value(full, "alpha_k"), "σ full (ppm)": f"{fitted_sigma(full, data_id):.2g}",
                    "flags": "; ".join(w for w in ("noisy" if "FLAGGED noisy" in entry.notes else "",
                                                   flags(stm, kki)) if w and w != "—") or "—"})
    return out


def plot(rows: list[dict], path: Path) -> None:
    """F δ⁰ of the NbN series against the VNA power, one colour per resonator, STM (T ≤ 0.9 K and the whole range
    with quasiparticles) and KKI."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    for k, resonator in enumerate(("RES-1", "RES-2", "RES-3", "RES-4")):
        mine = [r for r in rows if r["data"].startswith(resonator + "@")]
        power = np.array([float(r["data"].split("@")[1].removesuffix("dBm")) for r in mine])
        for column, marker, offset, label in (("STM F δ⁰ (1e-6)", "o", -0.6, "STM, T ≤ 0.9 K"),
                                              ("0.09–2.5 K: STM F δ⁰ (1e-6)", "s", 0.0, "STM + Mattis–Bardeen, all T"),
                                              ("KKI F δ⁰_eff (1e-6)", "^", 0.6, "KKI, T ≤ 0.9 K")):
            v, e = np.array([[float(x) for x in r[column].split(" ± ")] for r in mine]).T
            ax.errorbar(power + offset, v, e, fmt=marker, color=f"C{k}", mfc="none", ms=5, capsize=2,
                        label=f"{resonator}: {label}" if column == "STM F δ⁰ (1e-6)" else None)
    ax.set_xlabel("VNA output power (dBm; uncalibrated)")
    ax.set_ylabel("F δ⁰ (1e-6)")
    ax.set_title("NbN resonators (Carter et al. 2017), δf/f(T): ○ STM ≤ 0.9 K, □ STM + MB, △ KKI", fontsize="small")
    ax.legend(fontsize="x-small", ncol=2)
    fig.savefig(path, dpi=200)


def main(out: Path | None = None) -> int:
    jobs = {"nb-shift-stm": ([NB_SHIFT], STM + TLS_WINDOW + ["--noise", "absolute"]),
            "nb-shift-kki": ([NB_SHIFT], KKI + TLS_WINDOW + ["--noise", "absolute"]),
            "nb-loss-stm": (NB_LOSS, STM + TLS_WINDOW + ["--noise", "fitted", "--free", "beta"]),
            "nb-loss-kki": (NB_LOSS, KKI + TLS_WINDOW + ["--noise", "fitted", "--free", "beta"]),
            "nb-joint-stm": ([*NB_LOSS, NB_SHIFT], STM + TLS_WINDOW + ["--noise", "fitted", "--free", "beta",
                                                                       "--noise-of", f"{NB_SHIFT}=absolute"]),
            "nb-joint-kki": ([*NB_LOSS, NB_SHIFT], KKI + TLS_WINDOW + ["--noise", "fitted", "--free", "beta",
                                                                       "--noise-of", f"{NB_SHIFT}=absolute"])}
    for data_id in NBN:
        jobs[f"{data_id}-stm"] = ([data_id], STM + TLS_WINDOW + ["--noise", "absolute"])
        jobs[f"{data_id}-kki"] = ([data_id], KKI + TLS_WINDOW + ["--noise", "absolute"])
        jobs[f"{data_id}-mb"] = ([data_id], [*STM, "--noise", "absolute", "--free", "alpha_k", "--free", "T_c"])
    for k in range(1, 5):
        jobs[f"nbn-res{k}-loss"] = ([f"nbn-res{k}-loss"], STM + TLS_WINDOW + ["--noise", "fitted", "--free", "beta",
                                                                            "--free", "zeta", *LOSS_EXTRA.get(k, [])])
    with tempfile.TemporaryDirectory() as tmp:
        work = out or Path(tmp)
        with ThreadPoolExecutor(2) as pool:              # two `glassfit fit` processes at a time (2 cores)
            futures = {name: pool.submit(fit, name, sources, options, work)
                       for name, (sources, options) in jobs.items()}
            runs = {name: future.result() for name, future in futures.items()}
    nb, nbn, losses = nb_rows(runs), nbn_rows(runs), loss_rows(runs)
    nb_columns, nbn_columns = list(nb[0]), list(nbn[0])
    doc = ["# Superconducting-resonator survey", "", (__doc__ or "").split("\n\n", 1)[1].strip(), "",
           "## Nb CPW (measured)", "", *markdown(nb, nb_columns), "",
           "## NbN δf/f(T) (derived from the raw sweeps)", "", *markdown(nbn, nbn_columns), "",
           "## NbN Q_i(T, n): how much of the loss is resonant TLS", "",
           "All five powers of a resonator at T ≤ 0.9 K, n the photon number were there no attenuation before "
           "the sample (n_0dB of the derived table: the true n, and n_c, are 10^(−A/10) times smaller for the "
           "unstated attenuation A). The rise of 1/Q_i with T at low power is the saturation lifting as n_c(T) = "
           "n_c (T/1 K)^ζ grows; the TLS share is that of F δ⁰ tanh(ħω/2kT)/(1 + n/n_c(T))^β in the fitted "
           "1/Q_i at the coldest point of the highest and the lowest power: where it is small, the loss is not "
           "resonant TLS and the F δ⁰ of the loss rests on the other powers.", "",
           *markdown(losses, list(losses[0]))]
    (HERE / "resonators.md").write_text("\n".join(doc) + "\n")
    with open(HERE / "resonators.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys([*nb_columns, *nbn_columns])))
        writer.writeheader()
        writer.writerows(nb + nbn)
    plot(nbn, HERE / "resonators.png")
    compact = ["data", "STM F δ⁰ (1e-6)", "KKI F δ⁰_eff (1e-6)", "ΔBIC", "n_c (photons)", "β", "ζ",
               "0.09–2.5 K: STM F δ⁰ (1e-6)", "T_c (K)", "α_k", "flags"]
    rows = [{c: r.get(c, "—") for c in compact} for r in nb + losses + nbn]
    readme = README.read_text()
    start, end = readme.index(MARK_START) + len(MARK_START), readme.index(MARK_END)
    README.write_text(readme[:start] + "\n" + "\n".join(markdown(rows, compact)) + "\n" + readme[end:])
    print("\n".join(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
