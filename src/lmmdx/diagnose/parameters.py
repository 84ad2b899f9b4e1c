"""The variance–covariance parameters on the user's scale: names, values and the map to internal θ.

The user's parameters are φ = (vech Σ₁, …, vech Σ_T, σ²): for each random-effects
term its variances and covariances, then the residual variance. The engine works
on internal θ and an internal scale (see :mod:`lmmdx.engine.scaling`)::

    σ² = s_y² σ²_int,    Σᵢ = s_y² Bᵢ Σᵢ_int Bᵢᵀ,    Σᵢ_int = σ²_int Tᵢ Tᵢᵀ

so φ ↦ (θ_int, σ²_int) is a Cholesky factorisation after a linear map.
The non-profiled criterion (−2 log L, or the REML criterion, up to a constant)
at φ is ::

    d(φ) = log|L_Z|² [+ log|L_X|² for REML] + r²(θ)/σ²_int + dof · log(2π σ²_int)

with dof = n (ML) or n − p (REML); at σ²_int = r²/dof it equals the profiled criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import criterion_at_sigma
from ..engine.scaling import psd_factor
from ..model import Model

__all__ = ["ParameterSpec", "VarCovMap", "correlation_name", "parameter_names", "variance_name"]


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One user-scale variance–covariance parameter.

    Attributes
    ----------
    name : str
        ``group: column``, ``group: corr(a, b)`` or ``residual``.
    kind : {"variance", "covariance", "residual"}
    block : int
        Engine index of the term (-1 for the residual).
    i, j : int
        Row and column in the term's covariance (i == j for variances; i < j for covariances).
    """

    name: str
    kind: str
    block: int
    i: int
    j: int


def variance_name(group: str, column: str) -> str:
    """``group: column``, the name of a random effect's variance."""
    return f"{group}: {column}"


def correlation_name(group: str, first: str, second: str) -> str:
    """``group: corr(first, second)``, the name of a covariance (shown as a correlation)."""
    return f"{group}: corr({first}, {second})"


def parameter_names(model: Model) -> tuple[ParameterSpec, ...]:
    """The parameters of a model: per term its variances, then its covariances; the residual last."""
    specs: list[ParameterSpec] = []
    seen: dict[str, int] = {}

    def unique(name: str) -> str:
        count = seen.get(name, 0)
        seen[name] = count + 1
        return name if count == 0 else f"{name} [{count + 1}]"

    for index, block in enumerate(model.design.blocks):
        cols = block.columns
        for a in range(block.k):
            specs.append(ParameterSpec(unique(variance_name(block.group, cols[a])), "variance", index, a, a))
        for a in range(block.k):
            for b in range(a + 1, block.k):
                name = unique(correlation_name(block.group, cols[a], cols[b]))
                specs.append(ParameterSpec(name, "covariance", index, a, b))
    specs.append(ParameterSpec("residual", "residual", -1, 0, 0))
    return tuple(specs)


class VarCovMap:
    """Maps user-scale φ to internal (θ, σ²_int) and evaluates the non-profiled criterion.

    Parameters
    ----------
    model : Model
    reml : bool
    """

    def __init__(self, model: Model, reml: bool) -> None:
        self.model = model
        self.reml = reml
        self.specs = parameter_names(model)
        self.names = tuple(s.name for s in self.specs)
        self.sizes = tuple(b.k for b in model.design.blocks)
        scaling = model.scaling
        self._y2 = scaling.y_scale**2
        self._inv_b = [np.linalg.inv(b) for b in scaling.z_transforms]
        n, p = model.blocks.n, model.blocks.p
        self.dof = n - p if reml else n

    # -- φ ↔ covariance matrices --------------------------------------------------------
    def covariances(self, phi: np.ndarray) -> tuple[list[np.ndarray], float]:
        """The user-scale covariance matrix of each term and σ² from φ."""
        mats = [np.zeros((k, k)) for k in self.sizes]
        for spec, value in zip(self.specs[:-1], phi[:-1], strict=True):
            mats[spec.block][spec.i, spec.j] = value
            mats[spec.block][spec.j, spec.i] = value
        return mats, float(phi[-1])

    def pack(self, mats: list[np.ndarray], sigma2: float) -> np.ndarray:
        """φ from covariance matrices and σ² (inverse of :meth:`covariances`)."""
        values = [mats[s.block][s.i, s.j] for s in self.specs[:-1]]
        return np.array([*values, sigma2], dtype=np.float64)

    def from_fit(self, theta_int: np.ndarray, sigma: float) -> np.ndarray:
        """φ at an internal θ and the user-scale σ."""
        sigma2 = float(sigma) ** 2
        mats = [sigma2 * (t @ t.T) for t in self.model.factors_to_user(theta_int)]
        return self.pack(mats, sigma2)

    def to_internal(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """(θ_int, σ²_int) at φ, or None when φ is outside the parameter space."""
        mats, sigma2 = self.covariances(phi)
        if not (sigma2 > 0.0 and np.isfinite(sigma2)):
            return None
        s_int = sigma2 / self._y2
        factors = []
        for mat, inv_b in zip(mats, self._inv_b, strict=True):
            psi = inv_b @ mat @ inv_b.T / sigma2
            t = psd_factor(psi)
            if t is None:
                return None
            factors.append(t)
        return self.model.deviance.layout.from_factors(factors), s_int

    # -- the criterion ---------------------------------------------------------------
    def criterion(self, phi: np.ndarray) -> float:
        """Non-profiled criterion at φ (internal-scale constant; ``inf`` outside the space)."""
        internal = self.to_internal(phi)
        if internal is None:
            return np.inf
        theta, s_int = internal
        parts = self.model.deviance.parts(theta)
        if parts is None or not np.isfinite(parts.logdet_l):
            return np.inf
        blocks = self.model.blocks
        value = criterion_at_sigma(parts, blocks.n, blocks.p, self.reml, s_int)
        return value if np.isfinite(value) else np.inf
