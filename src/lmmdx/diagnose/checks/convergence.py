"""Convergence: the optimiser's status, a scale-free gradient test, the Hessian over θ, the bounds."""

from __future__ import annotations

import numpy as np

from ..context import Context
from ..finding import Finding
from ..parameters import correlation_name, variance_name
from .registry import register

__all__ = ["BOUND_IMPROVEMENT", "HESSIAN_MIN_EIGENVALUE", "NEWTON_DECREMENT_TOL", "check_convergence"]

#: Largest acceptable Newton decrement ``sqrt(gᵀH⁻¹g)``: lme4's 2e-3 tolerance on its
#: Hessian-scaled gradient (``check.conv.grad``), applied to the invariant form.
NEWTON_DECREMENT_TOL = 2e-3
#: The Hessian over the free θ, scaled to unit diagonal, must have its smallest
#: eigenvalue above this to count as positive definite.
HESSIAN_MIN_EIGENVALUE = 1e-8
#: A step of 1e-3 into the interior from a parameter on its bound must not lower the
#: criterion by more than this (in criterion units, i.e. −2 log L).
BOUND_IMPROVEMENT = 1e-6


def _theta_names(ctx: Context) -> list[str]:
    out = []
    for block in ctx.design.blocks:
        for r, c in zip(*ctx.fit.model.deviance.layout.tril(block.k), strict=True):  # type: ignore[union-attr]
            if r == c:
                out.append(variance_name(block.group, block.columns[r]))
            else:
                out.append(correlation_name(block.group, block.columns[c], block.columns[r]))
    return out


@register("convergence", order=5)
def check_convergence(ctx: Context) -> list[Finding]:
    """Optimiser status, Newton decrement, positive definiteness, one-sided bound derivatives."""
    fit, der = ctx.fit, ctx.profiled
    if fit is None or der is None:
        return []
    out = []
    trace = fit.optimizer
    if not trace.converged:
        out.append(Finding(
            "optimizer_not_converged", "warning", (),
            {"optimizer": trace.optimizer, "status": trace.status, "evaluations": trace.nevals},
            f"The optimiser {trace.optimizer} stopped with status {trace.status} after {trace.nevals} "
            "evaluations instead of meeting its tolerance; the estimates may not be at the optimum. "
            "The multi-optimiser check below says whether another optimiser does better.",
            title=f"optimiser {trace.optimizer} did not converge ({trace.status})",
        ))
    names = [n for n, free in zip(_theta_names(ctx), der.free, strict=True) if free]
    if der.newton_decrement is not None and der.newton_decrement > NEWTON_DECREMENT_TOL:
        out.append(Finding(
            "gradient_not_small", "warning", tuple(names),
            {"newton_decrement": der.newton_decrement, "tolerance": NEWTON_DECREMENT_TOL,
             "max_abs_gradient": der.max_abs_gradient},
            "At the reported estimates a Newton step would still lower the criterion by "
            f"{der.newton_decrement ** 2 / 2:.3g}: the optimiser stopped before the optimum. The test uses "
            "the gradient scaled by the curvature (the Newton decrement), which, unlike lme4's max|grad|, "
            "does not grow with the number of observations.",
            title="the gradient at the estimates is not negligible",
        ))
    if der.hessian.size and not (np.isfinite(der.min_eigenvalue) and der.min_eigenvalue > HESSIAN_MIN_EIGENVALUE):
        out.append(Finding(
            "hessian_not_positive_definite", "warning", tuple(names),
            {"min_scaled_eigenvalue": der.min_eigenvalue},
            "The curvature of the profiled criterion over the covariance parameters that are not on a bound "
            "is not positive definite: the criterion is flat (or curves down) along some direction, so the "
            "estimates are not a well-defined optimum. See the identifiability findings for the combination "
            "of parameters involved.",
            title="Hessian of the criterion is not positive definite",
        ))
    bound_names = [n for n, free in zip(_theta_names(ctx), der.free, strict=True) if not free]
    worst = float(np.min(der.bound_slopes)) * 1e-3 if der.bound_slopes.size else 0.0
    if worst < -BOUND_IMPROVEMENT:
        out.append(Finding(
            "boundary_not_optimal", "warning", tuple(bound_names),
            {"criterion_change": worst},
            "Moving a parameter from its bound into the interior lowers the criterion: the boundary "
            "estimate is not the optimum.",
            title="a boundary estimate is not optimal",
        ))
    return out
