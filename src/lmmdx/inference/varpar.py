"""The criterion and Var(β̂) as functions of the variance parameters on the user's scale.

lmerTest's Satterthwaite method differentiates the *non-profiled* (RE)ML deviance
with respect to ``varpar = (θ, σ)`` — lme4's θ on the user's scale and the residual
standard deviation — and Var(β̂) with respect to the same. The engine evaluates the
criterion on internal (scaled) coordinates; this module maps user-scale factors to
internal ones (``T_int T_intᵀ = B⁻¹ T Tᵀ B⁻ᵀ``, any square root will do because the
criterion depends on ``T`` only through ``T Tᵀ``) and assembles::

    d(θ, σ) = log|ΛᵀZᵀZΛ + I| [+ log|L_X|²] + r²(θ)/σ² + ν log(2πσ²)

with ν = n (ML) or n − p (REML), on the internal scale plus the constant shift to the
user's scale, so that ``d(θ̂, σ̂)`` is the fit's objective.
"""

from __future__ import annotations

import numpy as np

from ..engine import criterion_at_sigma
from ..engine.scaling import psd_factor, relative_factor_to_user
from ..model import Model

__all__ = ["VarparCriterion", "psd_factor"]



class VarparCriterion:
    """The fit's criterion over ``varpar = (θ_user, σ)`` and over internal θ at fixed σ.

    Parameters
    ----------
    model : Model
    reml : bool
        REML criterion (True) or ML deviance (False).
    """

    def __init__(self, model: Model, reml: bool) -> None:
        self.model = model
        self.reml = reml
        self.layout = model.deviance.layout
        self._inverse = tuple(np.linalg.inv(b) for b in model.scaling.z_transforms)
        blocks = model.blocks
        self._dof = blocks.n - blocks.p if reml else blocks.n
        self._shift = model.shift[reml]

    @property
    def ntheta(self) -> int:
        """Length of θ."""
        return self.layout.ntheta

    def internal_factors(self, factors: list[np.ndarray]) -> np.ndarray:
        """Internal θ from user-scale relative factors (any square roots of the covariances).

        Parameters
        ----------
        factors : list of ndarray, each (kᵢ, kᵢ)
            ``Tᵢ`` with relative covariance ``Tᵢ Tᵢᵀ`` on the user's scale, engine order.
        """
        return self.layout.from_factors(
            [relative_factor_to_user(t, inv) for t, inv in zip(factors, self._inverse, strict=True)]
        )

    def theta_internal(self, theta_user: np.ndarray) -> np.ndarray:
        """Internal θ with the same covariance as lme4's θ on the user's scale."""
        return self.internal_factors(self.layout.factors(np.asarray(theta_user, dtype=np.float64)))

    def at_internal(self, theta_int: np.ndarray, sigma: float) -> float:
        """The non-profiled criterion at internal θ and user-scale σ (``inf`` if undefined)."""
        parts = self.model.deviance.parts(theta_int)
        if parts is None or not sigma > 0:
            return np.inf
        s2 = (sigma / self.model.scaling.y_scale) ** 2
        blocks = self.model.blocks
        return criterion_at_sigma(parts, blocks.n, blocks.p, self.reml, s2) + self._shift

    def __call__(self, varpar: np.ndarray) -> float:
        """The criterion at ``varpar = (θ_user, σ)``, shape (ntheta + 1,)."""
        varpar = np.asarray(varpar, dtype=np.float64)
        return self.at_internal(self.theta_internal(varpar[:-1]), float(varpar[-1]))

    def vcov_beta(self, varpar: np.ndarray) -> np.ndarray:
        """Var(β̂) = σ² (XᵀV⁻¹X)⁻¹ at ``varpar`` on the user's scale, shape (p, p).

        NaN where the penalised system cannot be factored (a trial step of a numerical
        derivative on an ill-conditioned model): the derivative is then undefined, not an error.
        """
        varpar = np.asarray(varpar, dtype=np.float64)
        try:
            solution = self.model.solve(self.theta_internal(varpar[:-1]), self.reml)
            inv = np.linalg.inv(solution.lx)
        except np.linalg.LinAlgError:
            p = self.model.blocks.p
            return np.full((p, p), np.nan)
        a = self.model.scaling.x_transform
        return float(varpar[-1]) ** 2 * (a @ (inv.T @ inv) @ a.T)
