"""The ``glassfit`` command line: a thin layer over public functions (:mod:`glassfit.workflow`,
:mod:`glassfit.datasets`, :mod:`glassfit.models`).

Every bad input ends with one readable line on stderr and exit code 2, never a traceback; an interrupted
sampler keeps its chain (continue it with ``--resume``) and exits with 130.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

import glassfit

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


def _pairs(text: str, option: str) -> dict[str, str]:
    """``"T=Temp,y=C"`` → {"T": "Temp", "y": "C"}."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{option} expects NAME=VALUE[,NAME=VALUE...], got {text!r}")
        out[key.strip()] = value.strip()
    return out


def _assignments(items, option: str) -> dict[str, str]:
    """Repeated ``NAME=VALUE`` options → dict (the value may itself contain commas, e.g. a prior)."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{option} expects NAME=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _float(value: str, name: str, option: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{option} {name}={value!r}: the value must be a number") from None


def _reads(args):
    """The file options as one read_table dict for every file, or a list of one per file (in order); an option
    given once applies to every file."""
    from glassfit import datasets

    given = {key: values for key, values in (("observable", args.observable), ("columns", args.columns),
                                             ("units", args.units), ("sigma_rel", args.sigma_rel)) if values}
    files = [s for s in args.sources if s not in datasets.catalog()]
    if any(len(values) not in (1, len(files)) for values in given.values()):
        found = ", ".join(f"{len(v)} × --{k.replace('_', '-')}" for k, v in given.items())
        raise ValueError(f"give each of --observable, --columns, --units, --sigma-rel once (for every file) or once "
                         f"per data file, in the order of the {len(files)} files; got {found}")
    n = max((len(v) for v in given.values()), default=1)
    reads = [{key: _read_option(key, values[k if len(values) > 1 else 0]) for key, values in given.items()}
             for k in range(n)]
    if args.noise in ("fitted", "absolute"):       # a file without σ: the noise model fits it
        for read in reads:
            if "sigma_rel" not in read and "sigma" not in read.get("columns", {}):
                read["without_sigma"] = True
    return reads[0] if n == 1 else reads


def _windows(items) -> dict[str, tuple[float, float]]:
    """Repeated ``VAR=LO:HI`` options → {VAR: (LO, HI)}."""
    out = {}
    for name, text in _assignments(items, "--window").items():
        lo, sep, hi = text.partition(":")
        if not sep:
            raise ValueError(f"--window {name}={text}: give LO:HI, e.g. T=0.1:1.1")
        out[name] = (_float(lo, name, "--window"), _float(hi, name, "--window"))
    return out


def _read_option(key, value):
    return _pairs(value, f"--{key}") if key in ("columns", "units") else value


def run_spec(args):
    """The :class:`glassfit.runspec.RunSpec` of parsed ``glassfit fit``/``compare`` arguments."""
    from glassfit.workflow import RunSpec

    read = _reads(args)
    values = {k: _float(v, k, "--set") for k, v in _assignments(args.set, "--set").items()}
    return RunSpec(tuple(args.sources), model=args.model, method=args.method,
                   read=read, values=values, free=tuple(args.free or ()), fixed=tuple(args.fix or ()),
                   log=tuple(args.log or ()),
                   ties=_assignments(args.tie, "--tie"), priors=_assignments(args.prior, "--prior"),
                   noise=args.noise, noise_of=_assignments(args.noise_of, "--noise-of"),
                   window=_windows(args.window), walkers=args.walkers, steps=args.steps,
                   until_converged=args.until_converged,
                   seed=args.seed, processes=args.processes, moves=args.moves, search=args.search,
                   starts=args.starts, t_exp=args.t_exp)


def _data_options(p):
    p.add_argument("sources", nargs="+", metavar="DATASET-or-FILE",
                   help="catalog ids (glassfit datasets list), e.g. stycast-1266, or data files (with --observable, "
                        "--columns, --units); several = a joint fit sharing parameters by name")
    p.add_argument("--model", default="kki", help="kki (default), stm, or a model id of `glassfit models`")
    p.add_argument("--observable", action="append",
                   help="for files: heat_capacity, conductivity, attenuation, velocity, time_heat, loss, "
                        "frequency_shift, heat_release (once for every file, or once per file in their order; likewise "
                        "--columns, --units, --sigma-rel)")
    p.add_argument("--columns", action="append", help="for files: e.g. T=Temp,y=C,sigma=dC (header names)")
    p.add_argument("--units", action="append", help="for files: e.g. T=mK,y=erg/(g K)")
    p.add_argument("--sigma-rel", type=float, action="append",
                   help="for files without a σ column: relative error, e.g. 0.03")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="set a parameter's value: fixed ones keep it, free ones start from it (repeatable)")
    p.add_argument("--free", action="append", metavar="NAME", help="let a parameter vary (repeatable)")
    p.add_argument("--fix", action="append", metavar="NAME", help="hold a parameter fixed (repeatable)")
    p.add_argument("--log", action="append", metavar="NAME",
                   help="sample a positive parameter as ln NAME (for ridge-like posteriors of scales; repeatable)")
    p.add_argument("--tie", action="append", metavar="NAME=EXPR",
                   help="tie a parameter to others, e.g. chi_2=chi_1 or v_t=0.5*v_l (repeatable)")
    p.add_argument("--prior", action="append", metavar="NAME=DIST",
                   help="e.g. v_l='lognormal(3000, 0.4)', eta_c='uniform(0.1, 2)' (frees the parameter)")
    p.add_argument("--noise", default="known", choices=("known", "scaled", "fitted", "absolute"),
                   help="σ from the data, scaled by a fitted factor, a fitted relative σ, or a fitted σ the same for "
                        "every point (for data without σ that cross zero, δf/f)")
    p.add_argument("--noise-of", action="append", metavar="DATASET=NOISE",
                   help="the noise model of one dataset of a joint fit, e.g. nb-cpw-frequency-shift=absolute")
    p.add_argument("--window", action="append", metavar="VAR=LO:HI",
                   help="fit only the points with LO ≤ VAR ≤ HI, e.g. T=0.1:1.1 (K, Hz, s, photons; repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seeds the global search and the sampler (default 0)")
    p.add_argument("--search", default="multistart", choices=("multistart", "differential_evolution", "none"),
                   help="global search for the MAP inside the prior support before the local fit and the walkers: "
                        "Latin-hypercube multistart (default), differential evolution, or none (local fit from "
                        "the start values only)")
    p.add_argument("--starts", type=int, help="local fits of the multistart search (default max(6, 2 × free))")
    p.add_argument("--t-exp", type=float, metavar="SECONDS",
                   help="measurement time of heat-capacity data: only TLS relaxing within it contribute "
                        "(KKI: exact relaxation times; STM: Black's law); default: the t → ∞ equilibrium")


def _sampler_options(p, default_method, methods=("leastsq", "emcee")):
    p.add_argument("--method", default=default_method, choices=methods,
                   help=f"{', '.join(methods[:-1])} or {methods[-1]} (default {default_method})")
    p.add_argument("--walkers", type=int, help="emcee walkers, even and ≥ 2 × free parameters "
                   "(default max(16, 4 × free))")
    p.add_argument("--steps", type=int, default=3000, help="total steps of the chain (emcee; default 3000)")
    p.add_argument("--until-converged", action=argparse.BooleanOptionalAction, default=True,
                   help="stop when N ≥ 50 τ and τ is stable to 1 %% (default on)")
    p.add_argument("--processes", type=int, default=1,
                   help="worker processes for the walkers, at most the machine's cores (default 1)")
    p.add_argument("--moves", default="stretch", choices=("stretch", "de"),
                   help="emcee proposal: stretch (default) or a differential-evolution mix for ridge-like posteriors")


STUDY_EXAMPLES = """examples:
  glassfit study docs/studies/sbc-kki.toml                           # LocalCluster on this machine's cores
  glassfit study sbc.toml --scheduler tcp://10.0.0.5:8786            # an existing cluster
  glassfit study sbc.toml --max-tasks 10                             # ten tasks now, the rest on a later call
  glassfit study sbc.toml --summary                                  # table and figures of the results so far
"""


FIT_EXAMPLES = """examples:
  glassfit fit stycast-1266 --model stm --tie v_t=0.5*v_l --prior "v_l=lognormal(3000, 0.4)" --out sty
  glassfit fit stycast-1266 --model kki --method leastsq --tie chi_2=chi_1
  glassfit fit mydata.csv --observable heat_capacity --columns T=Temp,y=C,sigma=dC --units "T=mK,y=erg/(g K)"
  glassfit fit synthetic-kki-heat-capacity synthetic-kki-conductivity --out joint      # a joint fit
  glassfit fit ... --out sty --resume --steps 20000                                    # continue a chain
"""


def parser() -> argparse.ArgumentParser:
    """The ``glassfit`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="glassfit", description="Soft-potential (KKI) and tunnelling-model fits "
                                     "of low-temperature glass data.")
    parser.add_argument("--version", action="version", version=f"glassfit {glassfit.__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress bars or messages (also accepted before the subcommand)")

    p = sub.add_parser("datasets", parents=[quiet], help="the dataset catalog: list, show ID, fetch ID")
    p.add_argument("action", choices=("list", "show", "fetch"), help="list the catalog, show or fetch one dataset")
    p.add_argument("id", nargs="?", help="a dataset id for show and fetch, e.g. stycast-1266")

    p = sub.add_parser("models", parents=[quiet], help="list the models, or show one's parameter table")
    p.add_argument("name", nargs="?", help="a model id, e.g. kki_conductivity (omit to list them)")

    p = sub.add_parser("fit", parents=[quiet], help="fit datasets (least squares or emcee) and write a run directory",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=FIT_EXAMPLES)
    _data_options(p)
    _sampler_options(p, default_method="emcee")
    p.add_argument("--chain", help="chain file (default OUT/chain.h5)")
    p.add_argument("--resume", action="store_true", help="continue the chain up to --steps total")
    p.add_argument("--out", default="glassfit-run", help="run directory (default ./glassfit-run)")

    p = sub.add_parser("compare", parents=[quiet],
                       help="KKI against STM/Black on the same data: ΔAIC, ΔBIC (and LOO with emcee, ln Z and "
                            "Bayes factors with nested)")
    _data_options(p)
    _sampler_options(p, default_method="leastsq", methods=("leastsq", "emcee", "nested"))
    p.add_argument("--nlive", type=int, default=400, help="nested: live points (default 400)")
    p.add_argument("--dlogz", type=float, default=0.1, help="nested: stop when the remaining ln Z < DLOGZ (0.1)")
    p.add_argument("--sample", default="rslice", choices=("rslice", "rwalk", "slice", "unif", "auto"),
                   help="nested: dynesty's proposal (default rslice; unif for compact posteriors of few parameters)")
    p.add_argument("--resume", action="store_true", help="nested: continue the checkpointed runs in OUT")
    p.add_argument("--sensitivity", action=argparse.BooleanOptionalAction, default=True,
                   help="nested: ln B with each prior's width doubled and halved (default on)")
    p.add_argument("--out", default="glassfit-compare",
                   help="run directories of the emcee fits, nested checkpoints and evidence.json")

    for name, what in (("plot", "redraw the figures"), ("report", "rewrite report.md")):
        p = sub.add_parser(name, parents=[quiet], help=f"{what} of a saved run")
        p.add_argument("run_dir", help="a directory written by `glassfit fit`, e.g. glassfit-run")
    sub.choices["plot"].add_argument("--power", type=int, choices=range(5), metavar="{0..4}",
                                     help="fit figures of y/T^power: 3 for c/T³ (flat for Debye phonons), 0 for y "
                                          "itself; default c/T for heat capacities, κ/T² for conductivities")

    p = sub.add_parser("demo", parents=[quiet],
                       help="the README's main job: fits of the bundled data, written to --out")
    p.add_argument("--out", default="glassfit-demo")

    sub.add_parser("spectrum", parents=[quiet], help="summary of the spectrum engine (builds the tables once)")

    p = sub.add_parser("study", parents=[quiet], formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="many independent fits of a declared study (e.g. simulation-based calibration) on "
                            "dask.distributed; resumes where an interrupted run stopped",
                       epilog=STUDY_EXAMPLES)
    p.add_argument("spec", help="the study's TOML file (glassfit.study), e.g. docs/studies/sbc-kki.toml")
    p.add_argument("--workers", type=int, help="LocalCluster workers (default: the machine's cores); 0 runs the "
                                               "tasks in this process")
    p.add_argument("--scheduler", metavar="ADDRESS", help="an existing dask cluster's scheduler, e.g. tcp://host:8786")
    p.add_argument("--max-tasks", type=int, metavar="N", help="run at most N pending tasks, then stop")
    p.add_argument("--summary", action="store_true", help="only summarise the results file (table and figures)")
    return parser


def _datasets(args) -> str:
    from glassfit import datasets

    if args.action == "list":
        return "\n".join(entry.summary() for entry in datasets.list_datasets())
    if not args.id:
        raise ValueError(f"glassfit datasets {args.action} needs a dataset id (see `glassfit datasets list`)")
    if args.action == "show":
        return datasets.show_dataset(args.id)
    return str(datasets.fetch(args.id))


def _models(args) -> str:
    from glassfit import models

    if not args.name:
        return "\n".join(f"{name:20} {(cls.__doc__ or '').strip().splitlines()[0]}"
                         for name, cls in models.REGISTRY.items())
    return models.describe(args.name)


def _check_data(args):
    """Read every source first, with light modules only, so that bad input is refused before the models and
    the spectrum tables load."""
    from glassfit import datasets

    for source, read in zip(args.sources, datasets.file_reads(args.sources, _reads(args)), strict=True):
        datasets.load_source(source, read)


def _fit(args) -> str:
    _check_data(args)
    from glassfit import workflow

    command = shlex.join(["glassfit", *args.argv])
    run = workflow.fit(run_spec(args), args.out, resume=args.resume, quiet=args.quiet, command=command,
                       chain=args.chain)
    lines = [f"wrote {run.out}/: " + ", ".join(p.name for p in run.files)]
    if run.info is not None:
        n_over_tau = run.info.n_over_tau
        lines.append(f"{run.info.nsteps} steps × {run.info.nwalkers} walkers in {run.info.elapsed:.0f} s, acceptance "
                     f"{run.info.acceptance:.2f}, N/τ = {'n/a' if n_over_tau is None else f'{n_over_tau:.0f}'}, "
                     f"{'converged' if run.info.converged else 'NOT converged: continue with --resume --steps N'}")
    summary = run.summary
    quality = workflow.fit_quality(summary).replace("**", "")
    lines.append(f"χ² = {summary['chisqr']:.4g} for {summary['ndata']} points, {summary['nvarys']} free. {quality}")
    lines += [f"warning: {line}" for line in summary.get("flags", []) + summary.get("warnings", [])]
    return "\n".join(lines)


def _compare(args) -> str:
    _check_data(args)
    from glassfit import workflow

    nested = None
    if args.method == "nested":
        nested = {"nlive": args.nlive, "dlogz": args.dlogz, "sample": args.sample, "seed": args.seed,
                  "processes": args.processes}
        args.method = "leastsq"
    return workflow.compare(run_spec(args), out=args.out, quiet=args.quiet, loo=args.method == "emcee",
                            nested=nested, resume=args.resume, sensitivity=args.sensitivity).table()


def _plot(args) -> str:
    from glassfit import workflow

    return "wrote " + ", ".join(str(p) for p in workflow.plot(args.run_dir, args.power))


def _report(args) -> str:
    from glassfit import workflow

    return f"wrote {workflow.report(args.run_dir)}"


def _demo(args) -> str:
    from glassfit import workflow

    out = workflow.demo(args.out, quiet=args.quiet)
    return f"glassfit demo: everything is in {out.resolve()}/ (start with its README.md)"


def _spectrum(args) -> str:
    from glassfit.overview import spectrum_summary

    return spectrum_summary()


def _study(args) -> str:
    from glassfit import study

    spec = study.load(args.spec)
    lines = []
    if not args.summary:
        done = study.run(spec, workers=args.workers, scheduler=args.scheduler, max_tasks=args.max_tasks,
                         progress=not args.quiet)
        lines.append(f"study {args.spec}: {done.ran} tasks run on {done.workers} worker(s) in {done.elapsed:.0f} s, "
                     f"{done.skipped} replicates already in {spec.results}, {done.left} tasks left"
                     + ("" if done.complete else " (run the same command again to continue)"))
    table, files = study.summarize(spec)
    lines += [table.to_string(index=False, float_format=lambda v: f"{v:.3g}"),
              "wrote " + ", ".join(str(p) for p in files)]
    return "\n".join(lines)


COMMANDS = {"datasets": _datasets, "models": _models, "fit": _fit, "compare": _compare, "plot": _plot,
            "report": _report, "demo": _demo, "spectrum": _spectrum,
            "study": _study}


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0, 2 for bad input, 130 when interrupted)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    args.argv = argv
    try:
        text = COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("glassfit: interrupted; a chain keeps every finished step, a nested run its last checkpoint "
              "(continue with --resume), a study every finished task (run it again)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, KeyError, OSError) as exc:      # DataError is a ValueError
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"glassfit {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    if text and not (args.quiet and args.command in ("fit", "demo")):
        try:
            print(text, flush=True)
        except BrokenPipeError:                      # e.g. `glassfit datasets list | head`: the reader left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


__all__ = ["COMMANDS", "main", "parser", "run_spec"]
