"""Inference for GLMM fits: Wald z intervals and tests (the linear model's t machinery does not apply).

Wald intervals for β use normal quantiles and the fit's covariance (lme4's ``confint(method =
"Wald")``); for the standard deviations, the delta method on the inverse Hessian of the criterion
over (θ, β), flagged as unreliable at or near the boundary, where the approximation fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from .intervals import Interval, Intervals

if TYPE_CHECKING:
    from ..result import GlmmFit

__all__ = ["glmm_intervals", "glmm_wald_intervals"]


def _sd_names(fit: GlmmFit) -> list[str]:
    names = []
    for c in fit.random_effects:
        names.append(f"sd_{c.term}|{c.group}")
    return names


def glmm_wald_intervals(fit: GlmmFit, level: float = 0.95) -> Intervals:
    """Wald z intervals for β, and delta-method intervals for the SDs of scalar terms."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    z = float(stats.norm.ppf(0.5 + level / 2))
    out: list[Interval] = []
    cert = fit.certificate
    model = fit.glmm
    nt = model.ntheta
    inv = None
    if cert is not None and cert.positive_definite:
        try:
            inv = 2.0 * np.linalg.inv(cert.hessian)
        except np.linalg.LinAlgError:
            inv = None
    free = list(cert.free) if cert is not None else []
    at = 0
    for name, comp, (k, block) in zip(_sd_names(fit), fit.random_effects,
                                      [(b.k, b) for b in model.design.blocks for _ in range(b.k)], strict=True):
        del block
        lower = upper = float("nan")
        reliable, note = False, "delta-method intervals only for scalar terms away from the boundary"
        if k == 1 and inv is not None and at in free and comp.sd > 0:
            # SD = |θ_int| · scale of the term's column
            scale = comp.sd / abs(fit.theta_internal[at]) if fit.theta_internal[at] != 0 else float("nan")
            i = free.index(at)
            se = np.sqrt(inv[i, i]) * scale
            lower, upper = max(comp.sd - z * se, 0.0), comp.sd + z * se
            reliable = comp.sd - z * se > 0
            note = "" if reliable else "clipped at 0: use profile intervals"
        if k == 1:
            at += 1
        out.append(Interval(name, comp.sd, lower, upper, "wald", reliable, note))
    at = nt
    del at
    for name, b, se in zip(fit.fixed_names, fit.beta, fit.std_errors, strict=True):
        out.append(Interval(name, float(b), float(b - z * se), float(b + z * se), "wald",
                            not fit.singular, "" if not fit.singular else "singular fit: see the profile"))
    return Intervals("wald", level, tuple(out), ())


def glmm_intervals(fit: GlmmFit, method: str = "wald", level: float = 0.95, **options: object) -> Intervals:
    """The dispatch of ``GlmmFit.confint``."""
    from ..errors import DataError

    if method == "wald":
        return glmm_wald_intervals(fit, level)
    raise DataError(f"confidence intervals for GLMM fits: method 'wald' (got {method!r})")
