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


def _cmd_fit(args: argparse.Namespace) -> int:
    result = _fit_from_args(args)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(result.summary())
    return 0


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from ..design import build_design
    from ..diagnose import diagnose_design
    from ..formula import parse_formula
    from .io import read_table

    parsed = parse_formula(args.formula)
    frame = read_table(args.data)
    design = build_design(parsed, frame, check_identifiable=False)
    diagnosis = diagnose_design(design, reml=not args.ml)
    if args.json:
        _print_json(diagnosis.to_dict())
    else:
        print(diagnosis.summary())
    if args.fail_on and diagnosis.at_least(args.fail_on):
        return EXIT_FINDINGS
    return 0


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
        print(f'`lmmdx diagnose DATA "{DEMO_FORMULA}"` says which parameters, why, and what to fit instead.')
    else:
        print("The fit is not singular.")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmmdx",
        description="Linear mixed-effects models with lme4 formulas: fit them, and learn why they fail.",
    )
    parser.add_argument("--version", action="version", version="lmmdx 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit = sub.add_parser("fit", help="fit a model and print an lme4-like summary (or --json)")
    _add_model_args(fit)
    fit.set_defaults(run=_cmd_fit)
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
    diagnose.set_defaults(run=_cmd_diagnose)
    demo = sub.add_parser("demo", help="fit the bundled seed example, y ~ x + (x | group), and show it is singular")
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
    from ..errors import LmmdxError

    try:
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
