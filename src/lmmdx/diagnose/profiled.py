"""Derivatives of the profiled criterion over θ at the optimum, for the convergence check.

lme4 checks ``max|gradient|`` against an absolute 2e-3, which grows with n and
raises false alarms on large data. The scale-free quantity is the Newton
decrement ``λ² = gᵀ H⁻¹ g``: ``λ²/2`` is the decrease of the criterion a Newton
step would still achieve, the same whatever the parameterisation or the size of
the data (Boyd & Vandenberghe 2004, §9.5.1). Parameters on their bound (θ
diagonal elements at 0) are excluded; for them the one-sided derivative into
the interior must not be negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..result import Fit
from .differences import Memo, feasible_steps, gradient, hessian

__all__ = ["ProfiledDerivatives", "profiled_derivatives"]

#: Finite-difference step on internal θ (which is of order 1 by construction).
_STEP = 1e-4
#: One-sided step into the interior for parameters on their bound.
_BOUND_STEP = 1e-3


@dataclass(frozen=True, slots=True)
class ProfiledDerivatives:
    """Gradient and Hessian of the profiled criterion over the free θ.

    Attributes
    ----------
    free : ndarray of bool, shape (ntheta,)
        θ elements not on their bound.
    gradient : ndarray, shape (F,)
    hessian : ndarray, shape (F, F)
    newton_decrement : float or None
        ``sqrt(gᵀ H⁻¹ g)`` (None when H is not positive definite).
    min_eigenvalue : float
        Smallest eigenvalue of the Hessian scaled to unit diagonal (nan when empty).
    max_abs_gradient : float
        lme4's statistic, for comparison.
    bound_slopes : ndarray, shape (ntheta - F,)
        ``(d(θ + h e_j) − d(θ)) / h`` for each parameter on its bound.
    """

    free: np.ndarray
    gradient: np.ndarray
    hessian: np.ndarray
    newton_decrement: float | None
    min_eigenvalue: float
    max_abs_gradient: float
    bound_slopes: np.ndarray


def profiled_derivatives(fit: Fit) -> ProfiledDerivatives:
    """Finite-difference derivatives of the profiled criterion at the fit's θ."""
    model, reml = fit.model, fit.reml
    theta = np.asarray(fit.theta_internal, dtype=np.float64)
    layout = model.deviance.layout
    on_bound = layout.diagonal_mask() & (theta <= 0.0)
    free = ~on_bound
    crit = Memo(lambda th: model.deviance(th, reml))

    def sub(x: np.ndarray) -> float:
        full = theta.copy()
        full[free] = x
        if np.any(full[layout.diagonal_mask()] < 0):
            return np.inf
        return crit(full)

    x0 = theta[free]
    f0 = crit(theta)
    steps = feasible_steps(sub, x0, _STEP * np.maximum(np.abs(x0), 0.1))
    g = gradient(sub, x0, steps)
    h = hessian(sub, x0, steps, f0)
    decrement, min_eig = None, float("nan")
    if h.size and np.all(np.isfinite(h)) and np.all(np.diag(h) > 0):
        scale = 1.0 / np.sqrt(np.diag(h))
        scaled = h * np.outer(scale, scale)
        min_eig = float(np.linalg.eigvalsh(0.5 * (scaled + scaled.T))[0])
        if min_eig > 0 and np.all(np.isfinite(g)):
            decrement = float(np.sqrt(max(float(g @ np.linalg.solve(h, g)), 0.0)))
    elif h.size:
        min_eig = float(np.min(np.diag(h))) if np.all(np.isfinite(np.diag(h))) else float("nan")
    slopes = []
    for j in np.nonzero(on_bound)[0]:
        moved = theta.copy()
        moved[j] = _BOUND_STEP
        slopes.append((crit(moved) - f0) / _BOUND_STEP)
    grad_abs = float(np.max(np.abs(g))) if g.size and np.all(np.isfinite(g)) else 0.0
    return ProfiledDerivatives(free, g, h, decrement, min_eig, grad_abs, np.array(slopes))
