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

#: Newton steps at most (each costs one gradient per free parameter plus one evaluation);
#: from a converged derivative-free optimum one step already reaches the gradient's precision.
NEWTON_STEPS = 1
#: Relative rise of the criterion tolerated as rounding noise when a step is judged.
_NOISE = 1e-12
#: Relative forward-difference step for the Hessian.
_HESSIAN_STEP = 1e-5


def newton_polish(dev: ProfiledDeviance, theta: np.ndarray, reml: bool) -> tuple[np.ndarray, float, int]:
    """Polish an optimum; returns θ, the criterion there and the number of gradient evaluations."""
    theta = np.array(theta, dtype=np.float64)
    diagonal = dev.layout.diagonal_mask()
    free = np.flatnonzero(~(diagonal & (theta <= 0.0)))
    value, grad = value_and_gradient(dev, theta, reml)
    used = 1
    if free.size == 0 or not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return theta, value, used
    for _ in range(NEWTON_STEPS):
        hessian = np.empty((free.size, free.size))
        for column, e in enumerate(free):
            h = _HESSIAN_STEP * max(1.0, abs(theta[e]))
            shifted = theta.copy()
            shifted[e] += h
            hessian[:, column] = (value_and_gradient(dev, shifted, reml)[1][free] - grad[free]) / h
        used += free.size
        hessian = 0.5 * (hessian + hessian.T)
        try:
            chol = np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            break
        step = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad[free]))
        candidate = theta.copy()
        candidate[free] += step
        if np.any(candidate[diagonal] < 0.0):
            break
        new_value = dev(candidate, reml)
        used += 1
        if not (np.isfinite(new_value) and new_value <= value + _NOISE * max(1.0, abs(value))):
            break
        theta, value = candidate, new_value
        if _ + 1 < NEWTON_STEPS:
            grad = value_and_gradient(dev, theta, reml)[1]
            used += 1
        if np.max(np.abs(step)) <= 1e-10 * max(1.0, float(np.max(np.abs(theta)))):
            break
    return theta, value, used
