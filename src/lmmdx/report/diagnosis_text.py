"""Text for a :class:`~lmmdx.diagnose.Diagnosis`: the verdict first, then findings and tables."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any

from .text import table

if TYPE_CHECKING:
    from ..diagnose.finding import Diagnosis, Finding

__all__ = ["diagnosis_text"]

_WIDTH = 100


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}" if abs(value) >= 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_num(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_num(v) for v in value) + "]"
    return str(value)


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def _finding(f: Finding) -> list[str]:
    lines = [f"[{f.severity}] {f.title or f.code}  ({f.code})"]
    if f.parameters:
        lines += _wrap("parameters: " + ", ".join(f.parameters), "    ")
    lines += _wrap(f.explanation, "    ")
    if f.evidence:
        lines += _wrap("evidence: " + "; ".join(f"{k} = {_num(v)}" for k, v in f.evidence.items()), "    ")
    for rank, r in enumerate(f.remedies, 1):
        target = f"fit {r.formula}" if r.formula else r.action.replace("_", " ")
        lines += _wrap(f"{rank}. [{r.action}] {target}: {r.reason}", "      ")
    return lines


def _components(d: Diagnosis) -> list[str]:
    rows = []
    for c in d.variance_components:
        rows.append([c.parameter, _num(c.estimate), _num(c.scale_value), _num(c.std_error),
                     _num(c.z_value, 3) if c.z_value is not None else "-", "" if c.status == "ok" else c.status])
    header = ["Parameter", "Estimate", "SD/Corr", "Std.Error", "z value", "Status"]
    lines = ["Variance components (variance/covariance scale; asymptotic SEs from the observed information):",
             *table(header, rows, "lrrrrl")]
    if d.information is not None:
        info = d.information
        lines.append(f" Information matrix: condition number {_num(info.condition)} (scaled to unit diagonal)"
                     + (f"; held on the boundary: {', '.join(info.boundary)}" if info.boundary else ""))
        for combo in info.near_null:
            lines.append(f" Not determined by the data: {combo.describe()} (eigenvalue {_num(combo.eigenvalue)})")
    return lines


def _support(d: Diagnosis) -> list[str]:
    rows = [[s.factor, str(s.levels), f"{s.obs_min:g} / {s.obs_median:g} / {s.obs_max:g}", str(s.n_params),
             s.rating] for s in d.support]
    lines = ["Data support (green: identifiable; yellow: risk of a singular fit; red: not identifiable):",
             *table(["Factor", "Levels", "Obs/level min/median/max", "Var-cov params", "Rating"], rows, "lrrrl")]
    for s in d.support:
        for slope in s.slopes:
            corr = ""
            if (slope.corr_user is not None and slope.corr_centred is not None
                    and math.isfinite(slope.corr_user) and math.isfinite(slope.corr_centred)):
                corr = f", intercept-slope corr {slope.corr_user:+.2f} (centred {slope.corr_centred:+.2f})"
            lines.append(f" {s.factor}, slope {slope.column}: {slope.within_share:.0%} of its variance within "
                         f"levels, |mean|/sd {slope.origin_ratio:.2g}{corr}")
        for reason in s.reasons:
            lines += _wrap(f"{s.factor}: {reason}", " ")
    return lines


def _runs(d: Diagnosis) -> list[str]:
    lines = []
    if d.objective_spread is not None:
        lines.append(f"Optimiser check: {len(d.runs)} runs ({', '.join(sorted({r.optimizer for r in d.runs}))}; "
                     f"starts: {', '.join(sorted({r.start for r in d.runs}))}), criterion spread "
                     f"{_num(d.objective_spread)}")
    if d.estimate_spread and d.runs:
        scale = d.runs[0].estimates

        def relative(item: tuple[str, float]) -> float:
            size = abs(scale.get(item[0], 0.0))
            return item[1] / size if size > 0 else item[1]

        name, width = max(d.estimate_spread.items(), key=relative)
        lines.append(f" largest relative spread of an estimate among the runs at the best criterion: {name} "
                     f"{_num(width)} (of {_num(scale.get(name))})")
    if d.effective_df is not None and d.residual_df is not None:
        lines.append(f"Effective degrees of freedom (trace of the hat matrix): {d.effective_df:.2f}; residual "
                     f"degrees of freedom left: {d.residual_df:.2f} of {d.nobs}")
    lines.append(f"Diagnosis took {d.seconds:.2f} s.")
    return lines


def diagnosis_text(d: Diagnosis) -> str:
    """The diagnosis as text: verdict, findings (worst first), variance components, data support."""
    method = "REML" if d.reml else "maximum likelihood"
    lines = [f"Diagnosis of {d.formula} ({method}, {d.nobs} observations)", ""]
    lines += _wrap(f"Verdict: {d.verdict}", "")
    lines.append("")
    if d.findings:
        lines.append("Findings (worst first):")
        for f in d.findings:
            lines += [" " + line for line in _finding(f)]
    else:
        lines.append("Findings: none.")
    lines.append("")
    if d.variance_components:
        lines += _components(d) + [""]
    lines += _support(d) + [""]
    lines += _runs(d)
    return "\n".join(lines)
