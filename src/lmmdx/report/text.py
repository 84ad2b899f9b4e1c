"""lme4-like text for a :class:`~lmmdx.result.Fit`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..boundary import correlations

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..inference.ddf import CoefTest
    from ..inference.honesty import WaldCheck
    from ..result import Fit

__all__ = ["fit_summary", "p_text", "table"]


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    """Fixed-width table lines; ``align`` has one ``l`` or ``r`` per column (default: l then r)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(r, widths, align, strict=True)]
        lines.append(" " + " ".join(cells).rstrip())
    return lines


def _num(value: float, digits: int = 4) -> str:
    if value is None or not np.isfinite(value):
        return "NaN" if value is not None else ""
    return f"{value:.{digits}g}" if abs(value) >= 1e5 or (0 < abs(value) < 1e-3) else f"{value:.{digits}f}"


def _random_effects(fit: Fit) -> list[str]:
    corr_of = {(c.group, c.term1, c.term2): c.corr for c in fit.correlations}
    rows: list[list[str]] = []
    last_group = None
    seen_terms: dict[str, list[str]] = {}
    for comp in fit.random_effects:
        if comp.term is None:
            rows.append([comp.group, "", _num(comp.variance), _num(comp.sd), ""])
            continue
        earlier = seen_terms.setdefault(comp.group, [])
        corr = [corr_of.get((comp.group, t, comp.term)) for t in earlier]
        corr_text = " ".join(f"{c:5.2f}" for c in corr if c is not None)
        rows.append([comp.group if comp.group != last_group else "", comp.term, _num(comp.variance),
                     _num(comp.sd), corr_text])
        earlier.append(comp.term)
        last_group = comp.group
    has_corr = any(r[4] for r in rows)
    header = ["Groups", "Name", "Variance", "Std.Dev."] + (["Corr"] if has_corr else [])
    rows = [r if has_corr else r[:4] for r in rows]
    return table(header, rows, "llrrl" if has_corr else "llrr")


def p_text(p: float | None) -> str:
    """A p-value as R prints it: ``< 2.2e-16`` below machine precision, else 3 significant digits."""
    if p is None or not np.isfinite(p):
        return "NA"
    if p < 2.2e-16:
        return "< 2.2e-16"
    return f"{p:.3g}" if p >= 1e-4 else f"{p:.2e}"


def _fixed_effects(fit: Fit, tests: Sequence[CoefTest] | None, check: WaldCheck | None) -> list[str]:
    if not tests:
        rows = [[fe.term, _num(fe.estimate), _num(fe.std_error), f"{fe.t_value:.3f}"] for fe in fit.fixed_effects]
        return table(["", "Estimate", "Std. Error", "t value"], rows)
    mark = " !" if check is not None and check.broken else ""
    rows = [[t.term, _num(t.estimate), _num(t.std_error), _num(t.df, 3), f"{t.t_value:.3f}", p_text(t.p_value) + mark]
            for t in tests]
    return table(["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"], rows)


def _inference_notes(tests: Sequence[CoefTest] | None, check: WaldCheck | None, ddf: str) -> list[str]:
    lines = []
    if tests:
        label = {"satterthwaite": "Satterthwaite's", "kenward-roger": "Kenward-Roger's"}.get(ddf, ddf)
        lines.append(f"(t tests use {label} degrees of freedom)")
    if check is not None and check.broken:
        lines.append(f"! {check.message}")
    return lines


def _fixed_correlation(fit: Fit) -> list[str]:
    p = fit.beta.size
    if p < 2 or p > 12:
        return []
    corr = correlations(fit.vcov_beta)[1]
    short = [n[:6] for n in fit.fixed_names]
    rows = [[fit.fixed_names[i]] + [f"{corr[i, j]:.3f}" for j in range(i)] for i in range(1, p)]
    return ["", "Correlation of Fixed Effects:", *table([""] + short[: p - 1], [r + [""] * (p - len(r)) for r in rows])]


def fit_summary(fit: Fit, tests: Sequence[CoefTest] | None = None, check: WaldCheck | None = None,
                ddf: str = "satterthwaite") -> str:
    """The fit as lme4's ``summary()`` prints it (with lmerTest's df and p-values when ``tests``
    are given, and the Wald check's warning), plus lmmdx's warnings."""
    method = "REML" if fit.reml else "maximum likelihood"
    lines = [f"Linear mixed model fit by {method}", f"Formula: {fit.formula}", ""]
    if fit.reml:
        lines.append(f"REML criterion at convergence: {fit.objective:.4f}")
    else:
        lines += table(["AIC", "BIC", "logLik", "deviance", "df.resid"],
                       [[f"{fit.aic:.4f}", f"{fit.bic:.4f}", f"{fit.loglik:.4f}", f"{fit.objective:.4f}",
                         str(fit.df_resid)]], "rrrrr")
    sd = fit.sigma if fit.sigma > 0 else 1.0
    if fit.residuals.size:  # an out-of-core fit has no rows here (lmmdx.distributed reports their moments)
        quart = np.quantile(fit.residuals / sd, [0, 0.25, 0.5, 0.75, 1])
        lines += ["", "Scaled residuals:", *table(["Min", "1Q", "Median", "3Q", "Max"],
                                                   [[f"{v:.4f}" for v in quart]], "rrrrr")]
    lines += ["", "Random effects:", *_random_effects(fit)]
    groups = ", ".join(f"{g}, {n}" for g, n in fit.ngroups.items())
    lines.append(f"Number of obs: {fit.nobs}, groups:  {groups}")
    lines += ["", "Fixed effects:", *_fixed_effects(fit, tests, check), *_inference_notes(tests, check, ddf),
              *_fixed_correlation(fit)]
    if fit.dropped_fixed:
        lines += ["", "Dropped (aliased) fixed-effect columns: " + ", ".join(fit.dropped_fixed)]
    lines.append("")
    lines.append(f"Optimizer: {fit.optimizer.algorithm}, {fit.optimizer.nevals} evaluations, "
                 f"{'converged' if fit.converged else 'NOT converged'} ({fit.optimizer.status})")
    lines.append(f"Singular fit: {'yes' if fit.singular else 'no'}")
    for message in fit.warnings:
        lines.append(f"warning: {message}")
    return "\n".join(lines)
