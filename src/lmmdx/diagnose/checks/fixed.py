"""Fixed effects: aliased columns, near-collinearity, predictors on very different scales."""

from __future__ import annotations

import numpy as np

from ..context import Context
from ..finding import Finding
from .registry import register

__all__ = ["SCALE_RATIO", "VIF_INFO", "VIF_WARNING", "check_fixed"]

#: Variance inflation factors above this are reported (the usual rule of thumb,
#: Kutner, Nachtsheim & Neter 2004, §10.5).
VIF_INFO = 10.0
#: Above this (R² > 1 − 1e-6 on the other columns) a column is numerically near-aliased.
VIF_WARNING = 1e6
#: lme4's check.scaleX tolerance: columns whose standard deviations differ by more than
#: this factor are "on very different scales".
SCALE_RATIO = 1e3


def _vif(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Variance inflation factors of the columns and the condition number of their correlation matrix."""
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / sd
    corr = (z.T @ z) / x.shape[0]
    eig = np.linalg.eigvalsh(corr)
    condition = float(eig[-1] / eig[0]) if eig[0] > 0 else float("inf")
    try:
        return np.diag(np.linalg.inv(corr)), condition
    except np.linalg.LinAlgError:
        return np.full(x.shape[1], np.inf), condition


@register("fixed", order=7)
def check_fixed(ctx: Context) -> list[Finding]:
    """Aliased columns (dropped), variance inflation factors, the spread of column scales."""
    design = ctx.design
    out = []
    dropped = design.fixed.dropped
    if dropped:
        out.append(Finding(
            "aliased_fixed_effects", "warning", tuple(dropped), {"dropped": list(dropped)},
            "The fixed-effects model matrix is rank deficient: " + ", ".join(dropped) + " "
            f"{'is a linear combination' if len(dropped) == 1 else 'are linear combinations'} of earlier columns "
            "and cannot be estimated; lmmdx dropped them (as lme4 does). Their effects are absorbed by the "
            "columns they are aliased with, so interpret those with care.",
            (ctx.editor.drop_fixed(dropped, "states the model that is actually estimated"),),
            title="aliased fixed effects dropped: " + ", ".join(dropped),
        ))
    x = design.X
    varying = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
    names = [design.fixed.names[j] for j in varying]
    if len(varying) >= 2:
        vif, condition = _vif(x[:, varying])
        high = {n: float(v) for n, v in zip(names, vif, strict=True) if v > VIF_INFO}
        if high:
            severe = any(v > VIF_WARNING for v in high.values())
            out.append(Finding(
                "collinear_fixed_effects", "warning" if severe else "info", tuple(high),
                {"vif": high, "threshold": VIF_WARNING if severe else VIF_INFO,
                 "condition_number": condition},
                "Variance inflation factors of " + ", ".join(f"{n} ({v:.3g})" for n, v in high.items())
                + ": these columns are nearly linear combinations of the others, which inflates their standard "
                "errors" + (" and makes them numerically near-aliased." if severe else
                            " (often only because a covariate in an interaction is not centred)."),
                title="collinear fixed effects: " + ", ".join(high),
            ))
    if varying:
        sds = x[:, varying].std(axis=0)
        ratio = float(sds.max() / sds.min())
        if ratio > SCALE_RATIO:
            out.append(Finding(
                "fixed_effect_scales", "info", tuple(names),
                {"sd": dict(zip(names, map(float, sds), strict=True)), "ratio": ratio},
                f"The fixed-effect columns' standard deviations differ by a factor of {ratio:.3g}. lmmdx centres "
                "and scales columns internally, so the fit is not affected, but coefficients on such different "
                "scales are hard to compare.",
                (ctx.editor.rescale("coefficients per comparable unit are easier to read"),),
                title=f"predictors on very different scales (ratio {ratio:.3g})",
            ))
    return out
