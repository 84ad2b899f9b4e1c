"""``lmmdx``: fit linear mixed models from the command line.

Heavy libraries are imported inside the commands, so ``lmmdx --help`` is instant.
Every :class:`~lmmdx.errors.LmmdxError` becomes one line on stderr and exit code 2;
nothing prints a traceback (set ``LMMDX_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["main"]

EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3

DEMO_FORMULA = "y ~ x + (x | group)"


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="CSV or Parquet file (column types as pandas infers them)")
    parser.add_argument("formula", help='lme4 formula, e.g. "y ~ x + (x | group)"')
    parser.add_argument("--ml", action="store_true", help="fit by maximum likelihood (default: REML)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


def _fit_from_args(args: argparse.Namespace) -> Any:
    from ..design import build_design
    from ..fitting import fit_design
    from ..formula import parse_formula
    from .io import read_table

    parsed = parse_formula(args.formula)
    frame = read_table(args.data)
    return fit_design(build_design(parsed, frame), reml=not args.ml)


def _progress(label: str) -> Callable[[int, int], None] | None:
    """A progress bar on stderr when it is a terminal (rich), else nothing."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task(label, total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    return update


def _add_bootstrap_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--seed", type=int, default=None, help=f"seed of the {what} (default: fresh entropy)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes for the bootstrap (default 1; 0 = one per CPU)")


def _cmd_fit(args: argparse.Namespace) -> int:
    from ..inference.anova import anova
    from ..inference.ddf import Tester
    from ..inference.intervals import wald_intervals
    from ..report.payload import anova_payload, fit_payload
    from ..report.text import fit_summary

    result = _fit_from_args(args)
    tester = Tester(result, args.ddf)  # the Hessian behind df, p-values and Wald intervals, computed once
    intervals = None
    if args.ci == "wald":
        intervals = wald_intervals(result, args.level, args.ddf, tester if tester.method != "none" else None)
    elif args.ci:
        progress = _progress("bootstrap refits") if args.ci == "bootstrap" else None
        intervals = result.confint(args.ci, args.level, nsim=args.nsim, seed=args.seed, workers=args.workers,
                                   progress=progress)
    table = anova(result, args.anova, args.ddf, tester) if args.anova else None
    tests, check = tester.coefficients(), tester.check()
    if args.json:
        payload = fit_payload(result, tests, check, intervals)
        if table is not None:
            payload["anova"] = anova_payload(table)
        _print_json(payload)
        return 0
    print(fit_summary(result, tests, check, tester.method))
    if table is not None:
        print()
        print(table)
    if intervals is not None:
        print()
        print(intervals)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..design import build_design
    from ..fitting import fit_design
    from ..formula import parse_formula
    from ..inference.lrt import compare
    from ..inference.ols import fit_ols
    from ..report.inference import comparison_text
    from ..report.payload import comparison_payload
    from .io import read_table

    frame = read_table(args.data)
    fits: list[Any] = []
    for text in (args.formula_a, args.formula_b):
        parsed = parse_formula(text)
        if parsed.random:
            fits.append(fit_design(build_design(parsed, frame), reml=not args.ml))
        else:
            fits.append(fit_ols(build_design(parsed, frame, fixed_only=True), reml=not args.ml))
    progress = _progress("bootstrap refits") if args.bootstrap else None
    result = compare(fits[0], fits[1], args.bootstrap, seed=args.seed, workers=args.workers, progress=progress,
                     ml=args.ml)
    if args.json:
        _print_json(comparison_payload(result))
    else:
        print("\n".join(comparison_text(result)))
    return 0


def _cmd_check_invariance(args: argparse.Namespace) -> int:
    result = _fit_from_args(args)
    check = result.check_invariance(seed=args.seed)
    if args.json:
        _print_json(check.to_dict())
    else:
        print(check.summary())
    return 0


def _response_columns(patterns: str, columns: list[str]) -> list[str]:
    """Comma-separated names or glob patterns (``gene*``) → the matching columns, in data order."""
    import fnmatch

    from ..errors import DataError

    names: list[str] = []
    for pattern in (p.strip() for p in patterns.split(",")):
        if not pattern:
            continue
        if any(c in pattern for c in "*?[") and pattern not in columns:
            matched = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
            if not matched:
                raise DataError(f"no column matches {pattern!r} in --responses")
            names.extend(matched)
        else:
            names.append(pattern)
    if not names:
        raise DataError("--responses names no column")
    return names


def _cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import fit_many
    from .io import check_output, read_table, write_table
    from .progress import progress_bar

    check_output(args.out)
    frame = read_table(args.data)
    responses = None if args.responses is None else _response_columns(args.responses, list(map(str, frame.columns)))
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    with progress_bar(enabled=not args.no_progress) as progress:
        result = fit_many(args.formula, frame, responses=responses, by=args.by, reml=not args.ml,
                          workers=workers, progress=progress)
    write_table(result.table, args.out)
    if args.json:
        _print_json({**result.summary.to_dict(), "out": args.out, "seconds": result.seconds})
    else:
        print(result.summary.text())
        print(f"Wrote {len(result.table):,} rows to {args.out} in {result.seconds:.1f} s.")
    return 0


def _cmd_remedy(args: argparse.Namespace) -> int:
    from .progress import progress_bar

    result = _fit_from_args(args)
    with progress_bar(label="fitting the candidates") as progress:
        report = result.remedies(args.effect, select=args.select, progress=progress)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report.summary())
    return 0


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from ..design import build_design
    from ..diagnose import diagnose_design
    from ..formula import parse_formula
    from .io import read_table

    parsed = parse_formula(args.formula)
    frame = read_table(args.data)
    design = build_design(parsed, frame, check_identifiable=False)
    if args.invariance:
        diagnosis = _diagnose_with_invariance(design, reml=not args.ml)
    else:
        diagnosis = diagnose_design(design, reml=not args.ml)
    if args.json:
        _print_json(diagnosis.to_dict())
    else:
        print(diagnosis.summary())
    if args.fail_on and diagnosis.at_least(args.fail_on):
        return EXIT_FINDINGS
    return 0


def _diagnose_with_invariance(design: Any, reml: bool) -> Any:
    """The diagnosis with the invariance self-test's findings added (when the model can be fitted)."""
    from ..diagnose import diagnose, diagnose_design
    from ..errors import FitError
    from ..fitting import fit_design

    try:
        fit = fit_design(design, reml=reml)
    except FitError:
        return diagnose_design(design, reml=reml)
    return diagnose(fit).with_findings(fit.check_invariance().findings)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..design import build_design
    from ..fitting import fit_design
    from ..formula import parse_formula
    from .io import demo_data

    result = fit_design(build_design(parse_formula(DEMO_FORMULA), demo_data()), reml=True)
    if args.json:
        _print_json(result.to_dict())
        return 0
    print("lmmdx demo: the seed example, 8 groups x 20 observations, true random-slope SD 0.05")
    print(f"Fitting {DEMO_FORMULA} by REML.\n")
    print(result.summary())
    print()
    if result.singular:
        corr = [c.corr for c in result.correlations]
        corr_text = f" (intercept-slope correlation {corr[0]:.2f})" if corr else ""
        print(f"The fit is singular{corr_text}: the data cannot support every variance-covariance "
              "parameter of (x | group).")
    else:
        print("The fit is not singular.")
    from ..diagnose import diagnose

    print("\n" + "=" * 100 + "\n")
    print(diagnose(result).summary())
    print("\n" + "=" * 100 + "\n")
    print(result.remedies().summary())
    print('\nOn your data: lmmdx fit | diagnose | remedy DATA "FORMULA" (lmmdx --help lists every command).')
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmmdx",
        description="Linear mixed-effects models with lme4 formulas: fit them, and learn why they fail.",
    )
    parser.add_argument("--version", action="version", version="lmmdx 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit = sub.add_parser("fit", help="fit a model and print an lme4-like summary with p-values (or --json)")
    _add_model_args(fit)
    fit.add_argument("--ddf", choices=["satterthwaite", "kenward-roger", "none"], default="satterthwaite",
                     help="denominator df of the t and F tests (default satterthwaite, as lmerTest; "
                     "none skips df and p-values, which on large data cost about as much as the fit)")
    fit.add_argument("--ci", choices=["wald", "profile", "bootstrap"],
                     help="confidence intervals for every parameter (adds 'intervals' to --json)")
    fit.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    fit.add_argument("--nsim", type=int, default=1000, help="bootstrap samples for --ci bootstrap (default 1000)")
    _add_bootstrap_args(fit, "bootstrap")
    fit.add_argument("--anova", type=int, choices=[1, 3], nargs="?", const=3,
                     help="add the type III (default) or type I ANOVA table of the fixed-effect terms")
    fit.set_defaults(run=_cmd_fit)
    remedy = sub.add_parser(
        "remedy",
        help="fit alternatives to a model (simplified, penalised, fixed effects) side by side; recommend one",
    )
    _add_model_args(remedy)
    remedy.add_argument(
        "--effect", action="extend", nargs="+", metavar="TERM",
        help="fixed effect(s) of interest, as named in the summary (default: all but the intercept)",
    )
    remedy.add_argument(
        "--select", choices=("lrt", "aic"), default="lrt",
        help="backward elimination by boundary-corrected LRT at alpha 0.2 (default) or by AIC",
    )
    remedy.set_defaults(run=_cmd_remedy)
    check = sub.add_parser(
        "check-invariance",
        help="refit with rows permuted, terms reordered, covariates rescaled and levels relabelled; "
        "report how far the criterion and the estimates move",
    )
    _add_model_args(check)
    check.add_argument("--seed", type=int, default=0, help="seed of the row permutation (default 0)")
    check.set_defaults(run=_cmd_check_invariance)
    batch = sub.add_parser(
        "batch",
        help="fit one formula to many response columns (or once per level of a column) and aggregate the findings",
        description="Fit FORMULA once per response column (its response replaced by each) or once per level "
        "of a column; write one row per fit (estimates, SEs, variance components, flags, finding codes, or "
        "the fit's one-line error) and print counts per finding code and parameter.",
    )
    _add_model_args(batch)
    which = batch.add_mutually_exclusive_group(required=True)
    which.add_argument("--responses", metavar="Y1,Y2,...",
                       help="response columns, comma-separated; glob patterns such as 'gene*' are expanded")
    which.add_argument("--by", metavar="COL", help="one fit per level of this column")
    batch.add_argument("--out", required=True, metavar="FILE", help="results table: .parquet or .csv")
    batch.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes (default: the number of CPUs)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    batch.set_defaults(run=_cmd_batch)
    compare = sub.add_parser(
        "compare", help="likelihood-ratio test of two nested models, boundary-corrected (and bootstrap)"
    )
    compare.add_argument("data", help="CSV or Parquet file")
    compare.add_argument("formula_a", help="one model (a formula without random effects is fitted by least squares)")
    compare.add_argument("formula_b", help="the other model")
    compare.add_argument("--ml", action="store_true", help="fit and compare by maximum likelihood")
    compare.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    compare.add_argument("--bootstrap", type=int, default=0, metavar="N",
                         help="add a parametric-bootstrap p-value from N samples")
    _add_bootstrap_args(compare, "bootstrap")
    compare.set_defaults(run=_cmd_compare)
    diagnose = sub.add_parser(
        "diagnose",
        help="say why a model is singular or does not converge, what the data cannot identify, what to do",
        description="Fit the model and diagnose it: convergence (several optimisers), boundary, "
                    "identifiability (observed information, standard errors of the variance components), "
                    "residual saturation, data support per grouping factor, fixed effects. Models lme4 refuses "
                    "(one level, one observation per level) are explained rather than rejected.",
        epilog=f"Exit codes: 0 (or {EXIT_FINDINGS} when a finding reaches the --fail-on severity); "
               f"{EXIT_ERROR} for bad input.",
    )
    _add_model_args(diagnose)
    diagnose.add_argument("--fail-on", choices=("warning", "error"), default=None,
                          help=f"exit with code {EXIT_FINDINGS} when a finding is at least this severe "
                               "(default: always exit 0 after a diagnosis)")
    diagnose.add_argument("--invariance", action="store_true",
                          help="also refit with rows permuted, terms reordered, covariates rescaled and levels "
                               "relabelled, and report any spread as a finding (code 'invariance')")
    diagnose.set_defaults(run=_cmd_diagnose)
    demo = sub.add_parser("demo", help="the bundled seed example, y ~ x + (x | group): fit (singular), diagnosis, remedies")
    demo.add_argument("--json", action="store_true", help="print the fit as JSON")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_ERROR
    from ..blas import single_threaded
    from ..errors import LmmdxError

    try:
        with single_threaded():  # the engine lifts it around large dense factorisations
            return run(args)
    except LmmdxError as exc:
        print(f"lmmdx: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lmmdx: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("LMMDX_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"lmmdx: internal error: {type(exc).__name__}: {first} (set LMMDX_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
