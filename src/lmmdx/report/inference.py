"""Text for inference results: ANOVA tables, intervals and model comparisons (lmerTest/lme4 style)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .text import p_text, table

if TYPE_CHECKING:
    from ..inference.anova import AnovaTable
    from ..inference.intervals import Intervals
    from ..inference.lrt import Comparison

__all__ = ["anova_text", "comparison_text", "intervals_text"]

#: Marks a number that rests on a broken Wald approximation (explained under the table).
UNRELIABLE = "!"


def _g(value: float, digits: int = 5) -> str:
    return "NA" if value is None or not np.isfinite(value) else f"{value:.{digits}g}"


def anova_text(result: AnovaTable) -> str:
    """lmerTest's ANOVA table."""
    method = "Satterthwaite's" if result.ddf == "satterthwaite" else "Kenward-Roger's"
    kind = "Type III" if result.type == 3 else "Type I"
    head = f"{kind} Analysis of Variance Table with {method} method"
    if not result.rows:
        return f"{head}\n (no fixed-effect terms besides the intercept)"
    rows = [[r.term, _g(r.sum_sq), _g(r.mean_sq), str(r.num_df), _g(r.den_df, 6), _g(r.f_value, 5), p_text(r.p_value)]
            for r in result.rows]
    return "\n".join([head, *table(["", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"], rows)])


def intervals_text(result: Intervals) -> list[str]:
    """The intervals as a table, unreliable ones marked, then the notes."""
    a = (1.0 - result.level) / 2.0
    rows = []
    for i in result.intervals:
        mark = f" {UNRELIABLE}" if not i.reliable else ""
        rows.append([i.parameter, _g(i.estimate, 6), _g(i.lower, 6), _g(i.upper, 6) + mark])
    label = {"wald": "Wald", "profile": "Profile-likelihood", "bootstrap": "Parametric-bootstrap"}[result.method]
    lines = [f"{label} {100 * result.level:g}% confidence intervals:"]
    lines += table(["", "estimate", f"{100 * a:.3g} %", f"{100 * (1 - a):.3g} %"], rows)
    flagged = [i for i in result.intervals if not i.reliable]
    if flagged:
        lines.append(f" {UNRELIABLE} not reliable: {flagged[0].note}")
    lines += [f" note: {n}" for n in result.notes]
    return lines


def comparison_text(result: Comparison) -> list[str]:
    """lme4's ``anova(m0, m1)`` table, with the boundary-corrected and bootstrap p-values."""
    rows = []
    for name, m in (("small", result.small), ("large", result.large)):
        rows.append([name, str(m.npar), f"{m.aic:.2f}", f"{m.bic:.2f}", f"{m.loglik:.2f}", f"{m.objective:.2f}"])
    crit = "deviance" if result.criterion == "ML" else "REML crit"
    lines = [f"small: {result.small.formula}", f"large: {result.large.formula}", ""]
    lines += table(["", "npar", "AIC", "BIC", "logLik", crit], rows)
    lines += ["", f"Likelihood-ratio test ({result.criterion}): Chisq = {result.statistic:.4f}, Df = {result.df}"]
    lines.append(f"  p-value, naive chi2({result.df}):{' ' * 8}{p_text(result.p_value)}")
    if result.boundary:
        mix = " + ".join(f"{w:g} chi2({d})" for w, d in result.mixture) if result.mixture else "no closed form"
        lines.append(f"  p-value, boundary-corrected ({mix}): {p_text(result.p_value_boundary)}")
    if result.nsim:
        lines.append(f"  p-value, parametric bootstrap ({result.nsim} samples): {p_text(result.p_value_bootstrap)}")
    lines += [f"note: {n}" for n in result.notes]
    return lines
