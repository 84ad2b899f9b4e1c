"""``lmmdx``: fit linear mixed models from the command line.

Heavy libraries are imported inside the commands, so ``lmmdx --help`` is instant.
Every :class:`~lmmdx.errors.LmmdxError` becomes one line on stderr and exit code 2;
nothing prints a traceback (set ``LMMDX_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

__all__ = ["main"]

EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3
#: Exit code of a command stopped by a signal: 128 + the signal's number, as shells report it.
EXIT_SIGNAL_BASE = 128


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line on stderr (``lmmdx: error: ...``), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"lmmdx: error: {message} (see {self.prog} --help)\n")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        hint = f"; for {value:g}% write {value / 100:g}" if 50.0 <= value < 100.0 else ""
        raise argparse.ArgumentTypeError(f"the level must be between 0 and 1, e.g. 0.95, not {text}{hint}")
    return value


def _counter(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _separator(text: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|"}
    value = named.get(text.lower(), named.get(text, text))
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"the separator must be one character (or 'tab'), not {text!r}")
    return value


def _decimal(text: str) -> str:
    if text not in (".", ","):
        raise argparse.ArgumentTypeError(f"the decimal mark must be '.' or ',', not {text!r}")
    return text


def _comment(text: str) -> str:
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"the comment mark must be one character, e.g. '#', not {text!r}")
    return text

DEMO_FORMULA = "y ~ x + (x | group)"


def _add_read_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "reading the data", "CSV is read as R's read.csv reads it: NA and empty fields are missing, "
        "None/null/n/a are ordinary values")
    group.add_argument("--sep", type=_separator, metavar="C",
                       help="field separator (default ',', a tab for .tsv; e.g. ';' or tab)")
    group.add_argument("--decimal", type=_decimal, default=".", metavar="C",
                       help="decimal mark: '.' (default) or ',' for numbers written 1,5")
    group.add_argument("--encoding", metavar="NAME",
                       help="text encoding (default UTF-8, or what a byte-order mark says; e.g. latin-1, "
                            "cp1252, utf-16)")
    group.add_argument("--na-values", metavar="V1,V2", default="",
                       help="more values that mean missing, comma-separated (NA and empty fields always do)")
    group.add_argument("--comment", type=_comment, metavar="C",
                       help="ignore everything after this character on a line, e.g. '#'")


def _add_model_args(parser: argparse.ArgumentParser, json: bool = True) -> None:
    parser.add_argument("data", help="CSV or Parquet file; - reads it from standard input")
    parser.add_argument("formula", help='lme4 formula, e.g. "y ~ x + (x | group)"')
    parser.add_argument("--ml", action="store_true", help="fit by maximum likelihood (default: REML)")
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    _add_read_args(parser)


def _add_family_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", choices=("binomial", "poisson"), default=None,
                        help="fit a generalised linear mixed model (as lme4's glmer); --ml is then implied")
    parser.add_argument("--link", default=None,
                        help="link of --family: logit (default), probit, cloglog; log (default), identity, sqrt")
    parser.add_argument("--nagq", type=int, default=1, metavar="N",
                        help="adaptive Gauss-Hermite quadrature nodes for one scalar term (default 1 = Laplace)")


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


def _read_options(args: argparse.Namespace) -> Any:
    from .io import ReadOptions

    extra = tuple(v for v in (args.na_values or "").split(",") if v != "")
    return ReadOptions(sep=args.sep, decimal=args.decimal, encoding=args.encoding, na_values=extra,
                       comment=args.comment)


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Report running out of memory during ``what`` as one line naming the step."""
    from ..memory import out_of_memory

    try:
        yield
    except MemoryError as exc:
        raise out_of_memory(exc, what) from None


def _header_frame(names: list[str]) -> Any:
    """An empty frame with these columns (cheap even for a million of them)."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame(np.empty((0, len(names))), columns=names)


def _formula_columns(formulas: Iterable[Any], names: list[str], response: bool = True,
                     family: str | None = None) -> list[str]:
    """The columns among ``names`` that the parsed formulas use (an unknown column is an error here).

    With ``response=False`` the formulas' responses are left out (a batch replaces them).
    """
    from ..design import used_columns

    header = _header_frame(names)
    used: list[str] = []
    for formula in formulas:
        if response:
            columns = used_columns(formula, header)
        else:  # a batch's covariates: the batch package only then (its import costs a fit's start-up)
            from ..batch.run import covariates

            columns = sorted(covariates(formula, header), key=names.index)
        used += [c for c in columns if c not in used]
    return used


def _numeric_uses(formulas: Iterable[Any], family: str | None = None) -> set[str]:
    """Names the formulas use as numbers: everywhere but grouping and factor(x)/C(x, ...) arguments
    (and a GLMM's response, which may be a factor or logical)."""
    from ..formula.functions import value_names

    out: set[str] = set()
    for formula in formulas:
        for variable in formula.variables():
            if family and variable == formula.response:
                continue
            out.update(value_names(variable, numeric_only=True))
    return out


def _read_for(args: argparse.Namespace, formulas: Sequence[Any],
              responses: Callable[[list[str]], list[str]] | None = None, also: Sequence[str] = (),
              family: str | None = None) -> Any:
    """The data the formulas need: only their columns are read, then checked.

    ``responses(header)`` names a batch's response columns (the formulas' own responses are then
    not read); ``also`` names more columns to read as they are (``--by``).
    """
    from ..errors import DataError
    from .io import check_columns, read_table

    options = _read_options(args)
    wanted: list[str] = []
    numeric: list[str] = []

    def select(names: list[str]) -> list[str]:
        more = responses(names) if responses is not None else []
        missing = [c for c in also if c not in names]
        if missing:
            raise DataError(f"unknown column {missing[0]!r}; the data have: {', '.join(names[:20])}")
        uses = _numeric_uses(formulas, family)
        used = [c for c in _formula_columns(formulas, names, responses is None, family) if c not in more]
        wanted.extend(dict.fromkeys([*more, *used, *also]))
        numeric.extend(more + [c for c in used if c in uses])
        return wanted

    with _step(f"reading {args.data}"):
        frame = read_table(args.data, options, select)
    check_columns(frame, numeric, options)
    return frame


def _fit_from_args(args: argparse.Namespace) -> Any:
    from ..design import build_design
    from ..fitting import fit_design
    from ..formula import parse_formula

    parsed = parse_formula(args.formula)
    family = getattr(args, "family", None)
    frame = _read_for(args, [parsed], family=family)
    if family:
        from ..glmm_fitting import fit_glmm

        with _step("fitting the model"):
            return fit_glmm(args.formula, frame, family, link=args.link, nagq=args.nagq)
    with _step("building the model matrices"):
        design = build_design(parsed, frame)
    with _step("fitting the model"):
        return fit_design(design, reml=not args.ml)


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


def _add_cluster_args(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_argument_group(
        "on a Dask cluster", f"{what} (needs pip install 'lmmdx[dask]'; a remote cluster's workers need lmmdx too)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="the address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--dask-local", type=_counter(1), metavar="N",
                       help="start a Dask cluster of N worker processes on this machine (ended with the command)")


def _cluster(args: argparse.Namespace) -> Any:
    """The Dask client the options ask for (a context manager), or None."""
    if args.scheduler is None and args.dask_local is None:
        return None
    from ..distributed.cluster import cluster_client

    return cluster_client(args.scheduler, args.dask_local)


def _add_bootstrap_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--seed", type=_counter(0), default=None,
                        help=f"seed of the {what}, a whole number >= 0 (default: fresh entropy)")
    parser.add_argument("--workers", type=_counter(0), default=1,
                        help="worker processes for the bootstrap (default 1; 0 = one per CPU; at most the CPUs)")


def _cmd_fit(args: argparse.Namespace) -> int:
    from ..inference.ddf import Tester
    from ..inference.intervals import wald_intervals
    from ..report.payload import anova_payload, fit_payload
    from ..report.text import fit_summary

    cluster = _cluster(args)
    if cluster is not None:
        return _fit_out_of_core(args, cluster)
    result = _fit_from_args(args)
    if getattr(args, "family", None):
        return _glmm_fit_output(result, args)
    tester = Tester(result, args.ddf)  # the Hessian behind df, p-values and Wald intervals, computed once
    intervals = None
    if args.ci == "wald":
        intervals = wald_intervals(result, args.level, args.ddf, tester if tester.method != "none" else None)
    elif args.ci:
        progress = _progress("bootstrap refits") if args.ci == "bootstrap" else None
        intervals = result.confint(args.ci, args.level, nsim=args.nsim, seed=args.seed, workers=args.workers,
                                   progress=progress)
    table = None
    if args.anova:
        from ..inference.anova import anova  # only when asked: it imports scipy.stats

        table = anova(result, args.anova, args.ddf, tester)
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


def _fit_out_of_core(args: argparse.Namespace, cluster: Any) -> int:
    """``lmmdx fit DATA FORMULA --scheduler ADDRESS | --dask-local N``: Parquet read and fitted partition by
    partition on the cluster (:mod:`lmmdx.distributed.outofcore`)."""
    from ..errors import DataError
    from .progress import progress_bar

    asked = [option for option, given in (("--family", args.family), ("--anova", args.anova),
                                          (f"--ci {args.ci}", args.ci in ("profile", "bootstrap")),
                                          ("--ddf kenward-roger", args.ddf == "kenward-roger")) if given]
    if asked:
        raise DataError(f"{asked[0]} is not available for an out-of-core fit (it needs the rows); the fit gives "
                        "estimates, Satterthwaite tests and Wald intervals (--ci wald)")
    if args.data == "-":
        raise DataError("an out-of-core fit reads Parquet files, not standard input: give a file, a folder of them "
                        "or a pattern such as 'data/*.parquet'")
    from ..distributed.outofcore import fit_dask, read_parquet

    frame = read_parquet(args.data, args.formula)
    with cluster as client, progress_bar(label="fitting out of core") as progress, _step("fitting out of core"):
        result = fit_dask(args.formula, frame, reml=not args.ml, client=client, progress=progress)
    intervals = None
    if args.ci == "wald":
        from ..inference.intervals import wald_intervals

        tester = result.tests()
        intervals = wald_intervals(result.fit, args.level, "satterthwaite" if args.ddf != "none" else "none",
                                   tester if args.ddf != "none" else None)
    if args.json:
        payload = result.to_dict()
        if intervals is not None:
            from ..report.payload import intervals_payload

            payload["intervals"] = intervals_payload(intervals)
            payload["interval_notes"] = list(intervals.notes)
        _print_json(payload)
        return 0
    print(result.summary())
    if intervals is not None:
        print()
        print(intervals)
    return 0


def _glmm_fit_output(result: Any, args: argparse.Namespace) -> int:
    from ..errors import DataError

    if args.anova:
        raise DataError("--anova is not available for --family fits (use lmmdx compare for likelihood-ratio tests)")
    intervals = None
    if args.ci:
        intervals = result.confint(args.ci, args.level, nsim=args.nsim, seed=args.seed)
    if args.json:
        _print_json(result.to_dict(intervals=intervals))
        return 0
    print(result.summary())
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

    formulas = [parse_formula(text) for text in (args.formula_a, args.formula_b)]
    frame = _read_for(args, formulas)
    fits: list[Any] = []
    for parsed in formulas:
        with _step("fitting the models"):
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


def _response_columns(patterns: str, columns: list[str], covariates: set[str]) -> list[str]:
    """Comma-separated names or glob patterns (``gene*``) → the matching columns, in data order, each once.

    A pattern that matches a column the formula uses on its right-hand side is refused with its name.
    """
    import fnmatch

    from ..errors import DataError

    names: list[str] = []
    for pattern in dict.fromkeys(p.strip() for p in patterns.split(",")):
        if not pattern:
            continue
        if any(c in pattern for c in "*?[") and pattern not in columns:
            matched = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
            if not matched:
                raise DataError(f"no column matches {pattern!r} in --responses")
            clash = [c for c in matched if c in covariates]
            if clash:
                raise DataError(f"--responses {pattern!r} matches {clash[0]!r}, which the formula uses on its "
                                "right-hand side: make the pattern more specific (e.g. 'gene*')")
            names.extend(matched)
        else:
            if pattern in covariates:
                raise DataError(f"--responses names {pattern!r}, which the formula uses on its right-hand side: "
                                "leave it out")
            names.append(pattern)
    if not names:
        raise DataError("--responses names no column")
    return list(dict.fromkeys(names))


def _html_output(path: str, data: str) -> Any:
    """The path of an HTML report, checked before any work; matplotlib must be installed."""
    from pathlib import Path

    from ..errors import DataError
    from ..report.figures.canvas import require_matplotlib
    from .io import check_output

    file = Path(path)
    if file.suffix.lower() not in {".html", ".htm"}:
        raise DataError(f"cannot write {path}: the report must end in .html")
    check_output(path, [data], overwrite=True, suffixes=(".html", ".htm"))
    require_matplotlib()
    return file


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..report.html.document import write_report
    from .io import write_text

    out = _html_output(args.out, args.data)
    result = _fit_from_args(args)
    text = write_report(result, None, invariance=args.invariance, profile=args.profile,
                        source=None if args.data == "-" else Path(args.data).name)
    write_text(text, out)
    print(f"Wrote {out} ({len(text.encode()) / 1e3:,.0f} kB).")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import fit_many
    from ..batch.run import covariates, level_keys
    from ..errors import DataError
    from ..formula import parse_formula
    from .chunks import ChunkedOutput
    from .io import check_output, write_text
    from .output import BatchOutput
    from .progress import progress_bar

    if args.workers is not None and (args.scheduler or args.dask_local):
        raise DataError("--workers is for this machine's processes: with --scheduler or --dask-local the cluster's "
                        "workers fit (leave --workers out)")
    out = check_output(args.out, [args.data], overwrite=args.overwrite, resume=args.resume)
    page = None if args.report is None else _html_output(args.report, args.data)
    parsed = parse_formula(args.formula)
    key = "response" if args.by is None else args.by
    cluster = _cluster(args)
    output = ChunkedOutput(BatchOutput(out, key, {"formula": parsed.text, "reml": str(not args.ml).lower()},
                                       args.resume, args.overwrite), cluster is not None, args.resume, args.overwrite)
    responses: list[str] = []

    def response_columns(names: list[str]) -> list[str]:
        responses.extend(_response_columns(args.responses, names, covariates(parsed, _header_frame(names))))
        return list(responses)

    if args.by is not None:
        frame = _read_for(args, [parsed], also=[args.by])
    else:
        frame = _read_for(args, [parsed], response_columns)
    order = responses if args.by is None else list(level_keys(frame[args.by]))
    skip = output.done
    todo = [k for k in order if k not in skip]
    workers = args.workers if args.workers is not None else 0
    if not todo and order:
        print(f"Nothing to fit: all {len(order):,} {'responses' if args.by is None else 'levels'} already have a "
              f"row in {out}.")
        return 0
    try:
        with contextlib.ExitStack() as stack:
            client = None if cluster is None else stack.enter_context(cluster)
            progress = stack.enter_context(progress_bar(enabled=not args.no_progress))
            stack.enter_context(_step("fitting the batch"))
            result = fit_many(args.formula, frame, responses=responses or None, by=args.by, reml=not args.ml,
                              workers=workers, progress=progress, sink=output.add, skip=skip, client=client)
    except KeyboardInterrupt as exc:
        finished = len(output.new)
        written = output.finish(order) if output.new or output.previous else 0
        name = getattr(exc, "signal_name", "SIGINT")
        print(f"lmmdx: interrupted by {name} after {finished:,} of {len(todo):,} fits; {out} holds the {written:,} "
              "finished rows: run the same command with --resume to fit the rest", file=sys.stderr)
        return EXIT_SIGNAL_BASE + int(getattr(signal, name, signal.SIGINT))
    written = output.finish(order)
    summary = result.summary
    if summary.n_fits and summary.n_failed == summary.n_fits:
        first = summary.errors[0][0] if summary.errors else "unknown"
        raise DataError(f"all {summary.n_fits:,} fits failed (e.g. {first}); their errors are in {out}: fix the "
                        "formula or the data")
    if page is not None:
        from ..report.html.batch import batch_page

        write_text(batch_page(result), page)
    resumed = f" ({len(skip & set(order)):,} kept from the earlier run)" if skip else ""
    if args.json:
        _print_json({**summary.to_dict(), "out": str(out), "rows_written": written, "resumed": len(skip & set(order)),
                     "seconds": result.seconds})
    else:
        print(summary.text())
        print(f"Wrote {written:,} rows{resumed} to {out} in {result.seconds:.1f} s.")
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

    parsed = parse_formula(args.formula)
    frame = _read_for(args, [parsed], family=args.family)
    design = None
    if args.family:
        from ..errors import DataError
        from ..glmm_fitting import fit_glmm

        if args.invariance:
            raise DataError("--invariance is not available with --family yet")
        with _step("fitting the model"):
            glmm = fit_glmm(args.formula, frame, args.family, link=args.link, nagq=args.nagq)
        with _step("diagnosing"):
            diagnosis = glmm.diagnose()
    else:
        with _step("building the model matrices"):
            design = build_design(parsed, frame, check_identifiable=False)
    if design is None:
        pass
    elif args.invariance:
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
    parser = _Parser(
        prog="lmmdx",
        description="Linear mixed-effects models with lme4 formulas: fit them, and learn why they fail.",
    )
    parser.add_argument("--version", action="version", version="lmmdx 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit = sub.add_parser("fit", help="fit a model and print an lme4-like summary with p-values (or --json)")
    _add_model_args(fit)
    _add_family_args(fit)
    fit.add_argument("--ddf", choices=["satterthwaite", "kenward-roger", "none"], default="satterthwaite",
                     help="denominator df of the t and F tests (default satterthwaite, as lmerTest; "
                     "none skips df and p-values, which on large data cost about as much as the fit)")
    fit.add_argument("--ci", choices=["wald", "profile", "bootstrap"],
                     help="confidence intervals for every parameter (adds 'intervals' to --json)")
    fit.add_argument("--level", type=_fraction, default=0.95, help="confidence level, between 0 and 1 (default 0.95)")
    fit.add_argument("--nsim", type=_counter(1), default=1000,
                     help="bootstrap samples for --ci bootstrap (default 1000)")
    _add_bootstrap_args(fit, "bootstrap")
    fit.add_argument("--anova", type=int, choices=[1, 3], nargs="?", const=3,
                     help="add the type III (default) or type I ANOVA table of the fixed-effect terms")
    _add_cluster_args(fit, "fit out of core: DATA is Parquet (a file, a folder or a pattern such as "
                      "'data/*.parquet'), read partition by partition on the workers; the client holds only the "
                      "cross-product blocks")
    fit.set_defaults(run=_cmd_fit)
    remedy = sub.add_parser(
        "remedy",
        help="fit alternatives to a model (simplified, penalised, fixed effects) side by side; recommend one",
    )
    _add_model_args(remedy)
    _add_family_args(remedy)
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
    check.add_argument("--seed", type=_counter(0), default=0, help="seed of the row permutation (default 0)")
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
    batch.add_argument("--out", required=True, metavar="FILE",
                       help="results table: .parquet or .csv (checked before any fit; written atomically, "
                            "with every finished fit even when the batch is interrupted)")
    existing = batch.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    existing.add_argument("--resume", action="store_true",
                          help="keep the rows of an existing (or interrupted) --out and fit only the missing ones")
    batch.add_argument("--workers", type=_counter(0), default=None, metavar="N",
                       help="worker processes (default and 0: one per CPU; never more than the CPUs)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _add_cluster_args(batch, "fit the batch on a Dask cluster: the shared design goes to each worker once, the "
                      "responses in chunks, each finished chunk saved at once to FILE.parts/ (one Parquet file per "
                      "chunk) until the results table is written; a chunk lost with its worker is fitted again")
    batch.add_argument("--report", metavar="FILE.html", help="also write an HTML summary: finding codes, worst fits")
    batch.set_defaults(run=_cmd_batch)
    compare = sub.add_parser(
        "compare", help="likelihood-ratio test of two nested models, boundary-corrected (and bootstrap)"
    )
    compare.add_argument("data", help="CSV or Parquet file; - reads it from standard input")
    compare.add_argument("formula_a", help="one model (a formula without random effects is fitted by least squares)")
    compare.add_argument("formula_b", help="the other model")
    compare.add_argument("--ml", action="store_true", help="fit and compare by maximum likelihood")
    compare.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    compare.add_argument("--bootstrap", type=_counter(0), default=0, metavar="N",
                         help="add a parametric-bootstrap p-value from N samples")
    _add_bootstrap_args(compare, "bootstrap")
    _add_read_args(compare)
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
    _add_family_args(diagnose)
    diagnose.add_argument("--fail-on", choices=("warning", "error"), default=None,
                          help=f"exit with code {EXIT_FINDINGS} when a finding is at least this severe "
                               "(default: always exit 0 after a diagnosis)")
    diagnose.add_argument("--invariance", action="store_true",
                          help="also refit with rows permuted, terms reordered, covariates rescaled and levels "
                               "relabelled, and report any spread as a finding (code 'invariance')")
    diagnose.set_defaults(run=_cmd_diagnose)
    report = sub.add_parser(
        "report", help="write one self-contained HTML file: the fit, its diagnosis, the figures, the remedies",
        description="Fit the model and write a self-contained HTML report (styles and figures inline; it opens "
                    "without network access): lme4-style tables, the diagnosis with a traffic light, figures "
                    "(per-group lines, caterpillar, residuals and QQ, profiles, rePCA, optimiser agreement) and "
                    "the remedies with a forest plot. Needs matplotlib: pip install 'lmmdx[report]'.",
    )
    _add_model_args(report, json=False)
    report.add_argument("-o", "--out", required=True, metavar="FILE.html", help="where to write the report")
    report.add_argument("--invariance", action="store_true", help="add the invariance self-test")
    report.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="profile the variance parameters (default: up to 20,000 observations)")
    report.set_defaults(run=_cmd_report)
    demo = sub.add_parser("demo", help="the bundled seed example, y ~ x + (x | group): fit (singular), diagnosis, remedies")
    demo.add_argument("--json", action="store_true", help="print the fit as JSON")
    demo.set_defaults(run=_cmd_demo)
    return parser


class _SignalsAsInterrupts:
    """SIGTERM and SIGHUP raise :class:`~lmmdx.errors.Interrupted` in the main thread, as SIGINT raises
    KeyboardInterrupt: pools shut down, finished work is saved, and the exit code says which signal.

    Only for commands with work to save (``batch``): a Python handler runs only between bytecodes,
    so a command inside a long C call would not stop; the others keep the default action (the
    process ends at once, and its worker processes end with it)."""

    def __init__(self, enabled: bool = True) -> None:
        self._previous: dict[int, Any] = {}
        self._enabled = enabled

    def _raise(self, signum: int, frame: Any) -> None:
        from ..errors import Interrupted

        raise Interrupted(signal.Signals(signum).name)

    def __enter__(self) -> None:
        import threading

        if not self._enabled or threading.current_thread() is not threading.main_thread():
            return
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                self._previous[number] = signal.signal(number, self._raise)

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    stdout holds only the result; stderr is empty or holds one line starting with ``lmmdx:``
    (Python and numpy warnings are never printed: numerical trouble is a finding or a
    warning inside the result).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        print("lmmdx: error: give a command, e.g. lmmdx fit DATA FORMULA (the list is above)", file=sys.stderr)
        return EXIT_ERROR
    from ..blas import single_threaded
    from ..errors import LmmdxError
    from ..memory import out_of_memory

    try:
        with _SignalsAsInterrupts(run is _cmd_batch), warnings.catch_warnings(), single_threaded():
            warnings.simplefilter("ignore")
            return run(args)  # the engine lifts single_threaded around large dense factorisations
    except LmmdxError as exc:
        print(f"lmmdx: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError as exc:
        print(f"lmmdx: error: {out_of_memory(exc, 'while running')}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        name = getattr(exc, "signal_name", "SIGINT")
        print(f"lmmdx: interrupted by {name}", file=sys.stderr)
        return EXIT_SIGNAL_BASE + int(getattr(signal, name, signal.SIGINT))
    except BrokenPipeError:
        # the reader of stdout went away (``lmmdx ... | head``): nothing more to say to it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_SIGNAL_BASE + 13
    except RecursionError:
        print("lmmdx: error: the input is nested too deeply to process; simplify the formula", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get("LMMDX_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"lmmdx: internal error: {type(exc).__name__}: {first} (set LMMDX_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
