"""Newton steps on the closed-form gradient: the last digits a derivative-free optimiser cannot reach.

BOBYQA stops when the criterion no longer changes beyond its rounding noise, which
leaves θ uncertain to about the square root of that noise (1e-6 relative, worse
along flat directions). Newton steps on the analytic gradient, with the Hessian
from forward differences of the gradient, bring θ to the precision of the
gradient itself, so that equivalent writings of a model give the same estimates.
Parameters at their bound are held fixed; a step is kept only if it keeps the
parameters feasible and does not raise the criterion beyond its noise.
"""

from __future__ import annotations

import numpy as np

from .deviance import ProfiledDeviance
from .gradient import value_and_gradient

__all__ = ["newton_polish"]

#: Newton steps at most, all with the Hessian of the first (each later step costs one gradient).
NEWTON_STEPS = 4
#: A step this small relative to θ is the last (the next would be about its square).
_STEP_TOLERANCE = 1e-7
#: Relative rise of the criterion tolerated as rounding noise when a step is judged.
_NOISE = 1e-12
#: Relative forward-difference step for the Hessian.
_HESSIAN_STEP = 1e-5


def newton_polish(dev: ProfiledDeviance, theta: np.ndarray, reml: bool) -> tuple[np.ndarray, float, int]:
    """Polish an optimum; returns θ, the criterion there and the number of gradient evaluations.

    The Hessian is computed once; later steps reuse it (chord Newton), each costing one gradient.
    A diagonal element of θ that a step would take below 0 is held at 0 from then on.
    """
    theta = np.array(theta, dtype=np.float64)
    diagonal = dev.layout.diagonal_mask()
    free = np.flatnonzero(~(diagonal & (theta <= 0.0)))
    value, grad = value_and_gradient(dev, theta, reml)
    used = 1
    if free.size == 0 or not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return theta, value, used
    hessian = np.empty((free.size, free.size))
    for column, e in enumerate(free):
        h = _HESSIAN_STEP * max(1.0, abs(theta[e]))
        shifted = theta.copy()
        shifted[e] += h
        hessian[:, column] = (value_and_gradient(dev, shifted, reml)[1][free] - grad[free]) / h
    used += free.size
    hessian = 0.5 * (hessian + hessian.T)
    for _ in range(NEWTON_STEPS):
        try:
            chol = np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            break
        step = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad[free]))
        candidate = theta.copy()
        candidate[free] += step
        crossing = diagonal[free] & (candidate[free] < 0.0)
        if crossing.any():
            # a diagonal element would cross its bound: hold it at 0 and step the others
            keep = ~crossing
            candidate = theta.copy()
            candidate[free[crossing]] = 0.0
            free, hessian = free[keep], hessian[np.ix_(keep, keep)]
            new_value, new_grad = value_and_gradient(dev, candidate, reml)
            used += 1
            if not (np.isfinite(new_value) and new_value <= value + _NOISE * max(1.0, abs(value))):
                break
            theta, value, grad = candidate, new_value, new_grad
            if free.size == 0:
                break
            continue
        last = np.max(np.abs(step)) <= _STEP_TOLERANCE * max(1.0, float(np.max(np.abs(candidate))))
        if last:  # converged: the value alone decides whether the step is kept
            new_value, new_grad = dev(candidate, reml), grad
        else:
            new_value, new_grad = value_and_gradient(dev, candidate, reml)
        used += 1
        if not (np.isfinite(new_value) and new_value <= value + _NOISE * max(1.0, abs(value))):
            break
        theta, value, grad = candidate, new_value, new_grad
        if last:
            break
    return theta, value, used
