"""The ML deviance with one variance parameter held fixed, in coordinates where that is a coordinate.

Profiling an SD, a correlation or σ means minimising the deviance over everything
else. Doing that on lme4's SD/correlation scale needs upper bounds and meets
non-positive-definite correlation matrices; here the term that holds the parameter
is written as a Cholesky factor ``L`` of its relative covariance (user scale) with
its components reordered so that the parameter's components come first:

* an SD ``s`` of component a (a first): ``s = σ L₀₀``, so σ is free and L₀₀ = s / σ
  (this stays well scaled as s → 0, where L₀₀ = s / L₀₀-style coordinates do not);
* a correlation ρ of components a, b (first two): row 1 of L is ``r (ρ, √(1−ρ²), 0…)``
  with r ≥ 0 free, and σ is profiled out;
* σ itself: internal θ is free.

Other terms keep their internal θ. Only lower bounds remain (diagonals ≥ 0), so the
engine's optimiser applies, and any value of the free coordinates is a valid model.
"""

from __future__ import annotations

import numpy as np

from ..engine import ThetaLayout
from ..engine.scaling import relative_factor_to_user
from ..model import Model
from .parameters import Parameter
from .varpar import VarparCriterion, psd_factor

__all__ = ["FixedVariance"]


class FixedVariance:
    """The ML deviance of ``model`` with the variance parameter ``par`` fixed.

    Parameters
    ----------
    model : Model
    par : Parameter
        Of kind ``"sd"``, ``"cor"`` or ``"sigma"``.
    """

    def __init__(self, model: Model, par: Parameter) -> None:
        self.model = model
        self.par = par
        self.crit = VarparCriterion(model, reml=False)
        self.layout = model.deviance.layout
        self.kind = par.kind
        if self.kind == "sigma":
            return
        t = par.term
        k = self.layout.sizes[t]
        lead = [par.row] if par.kind == "sd" else [par.row, par.col]
        self.perm = np.array(lead + [i for i in range(k) if i not in lead])
        self.inverse_perm = np.argsort(self.perm)
        rows, cols = ThetaLayout.tril(k)
        cells = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
        fixed = ((1, 0), (1, 1)) if self.kind == "cor" else ((0, 0),)
        self.cells = [cell for cell in cells if cell not in fixed]
        self.k = k
        start = self.layout.offsets[t]
        self.own = slice(start, start + k * (k + 1) // 2)
        self.transform_inverse = np.linalg.inv(model.scaling.z_transforms[t])

    # -- coordinates ----------------------------------------------------------------------
    def _nfree_term(self) -> int:
        return len(self.cells) + 1

    def lower(self) -> np.ndarray:
        """Lower bounds of the free coordinates: ``[σ or r, the cells of L, other terms' θ]``."""
        if self.kind == "sigma":
            return self.layout.lower()
        term = [0.0] + [0.0 if r == c else -np.inf for r, c in self.cells]
        rest = np.delete(self.layout.lower(), np.arange(self.own.start, self.own.stop))
        return np.concatenate([term, rest])

    def start(self, theta_internal: np.ndarray, sigma: float) -> np.ndarray:
        """Free coordinates of a fit at internal θ and σ (a warm start)."""
        theta_internal = np.asarray(theta_internal, dtype=np.float64)
        if self.kind == "sigma":
            return theta_internal.copy()
        t_user = self.model.factors_to_user(theta_internal)[self.par.term]
        cov = t_user @ t_user.T
        lower = psd_factor(cov[np.ix_(self.perm, self.perm)])
        assert lower is not None
        first = float(np.hypot(lower[1, 0], lower[1, 1])) if self.kind == "cor" else float(sigma)
        term = [first] + [lower[r, c] for r, c in self.cells]
        rest = np.delete(theta_internal, np.arange(self.own.start, self.own.stop))
        return np.concatenate([term, rest])

    def _theta(self, x: np.ndarray, value: float) -> np.ndarray:
        """Internal θ from the free coordinates."""
        n = self._nfree_term()
        lower = np.zeros((self.k, self.k))
        for v, (r, c) in zip(x[1:n], self.cells, strict=True):
            lower[r, c] = v
        if self.kind == "cor":
            lower[1, 0] = value * x[0]
            lower[1, 1] = np.sqrt(max(1.0 - value * value, 0.0)) * x[0]
        elif x[0] > 0:
            lower[0, 0] = value / x[0]
        factor = relative_factor_to_user(lower[self.inverse_perm], self.transform_inverse)
        theta = np.empty(self.layout.ntheta)
        theta[: self.own.start] = x[n : n + self.own.start]
        theta[self.own] = factor[ThetaLayout.tril(self.k)]
        theta[self.own.stop :] = x[n + self.own.start :]
        return theta

    # -- the deviance -------------------------------------------------------------------------
    def __call__(self, x: np.ndarray, value: float) -> float:
        """The ML deviance at free coordinates ``x`` with the parameter at ``value``."""
        if self.kind == "sigma":
            return self.crit.at_internal(x, value)
        theta = self._theta(x, value)
        if self.kind == "cor":
            return self.model.objective(theta, reml=False)
        return self.crit.at_internal(theta, float(x[0]))
