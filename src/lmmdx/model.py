"""The bridge from a :class:`Design` to the engine: scaled arrays, blocks and the criterion.

A :class:`Model` is built once per design (the one pass over the rows) and then
evaluated at any θ on the internal scale; it reports the criterion and the
estimates on the user's scale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .blas import dense_threads, single_threaded
from .boundary import TermBoundary, classify_term, standardised_covariance
from .design import Design
from .engine import Blocks, ProfiledDeviance, Solution, TermData, cross_products
from .engine.crossprod import cross_products_bytes
from .engine.scaling import Scaling, column_transform, relative_factor_to_user
from .memory import require

__all__ = ["Model", "engine_terms"]


def _unstructured_with_intercept(columns: tuple[str, ...]) -> bool:
    return len(columns) > 1 and "(Intercept)" in columns


def engine_terms(design: Design, scaling: Scaling) -> list[TermData]:
    """The engine's random-effects blocks: the design's terms, internally scaled, with adjacent
    terms on the same grouping factor (``(1 + x || g)``, ``(1 | g) + (0 + x | g)``) made one block
    whose factor is block diagonal (as MixedModels.jl amalgamates them).
    """
    out: list[TermData] = []
    group: str | None = None
    for block, transform in zip(design.blocks, scaling.z_transforms, strict=True):
        values = block.values @ transform
        if out and block.group == group:
            last = out[-1]
            out[-1] = TermData(last.codes, np.hstack([last.values, values]), last.nlevels,
                               (*last.sizes, block.k))
        else:
            out.append(TermData(block.factor.codes, values, block.nlevels))
        group = block.group
    return out


@dataclass(frozen=True, slots=True)
class Model:
    """A design ready for optimisation.

    Attributes
    ----------
    design : Design
    scaling : Scaling
        The internal centring and scaling (see :mod:`lmmdx.engine.scaling`).
    blocks : Blocks
        Cross-products of the internally scaled columns.
    deviance : ProfiledDeviance
        The criterion over internal θ.
    """

    design: Design
    scaling: Scaling
    blocks: Blocks
    deviance: ProfiledDeviance

    @classmethod
    def from_design(cls, design: Design) -> Model:
        """Scale the columns, make the cross-product blocks and the criterion's workspace.

        Runs with one BLAS thread (the many small products lose to thread hand-offs).
        """
        with single_threaded():
            return cls._build(design, design.y)

    def with_response(self, y: np.ndarray) -> Model:
        """The same design with another response (simulation, bootstrap, batch fitting).

        Parameters
        ----------
        y : ndarray, shape (n,)
            A response for the rows of this design, in the design's row order.
        """
        y = np.asarray(y, dtype=np.float64)
        if y.shape != self.design.y.shape:
            raise ValueError(f"a response of {self.design.y.shape[0]} values is needed, got {y.shape}")
        with single_threaded():
            return self._build(replace(self.design, y=y), y)

    @classmethod
    def _build(cls, design: Design, y: np.ndarray) -> Model:
        sizes = [block.k for block in design.blocks]
        n, p = design.X.shape
        require(cross_products_bytes(n, p, sizes, [block.nlevels for block in design.blocks]),
                f"the cross-products of {n:,} rows × {p + sum(sizes) + 1:,} columns")
        rms = float(np.sqrt(np.mean(y * y)))
        y_scale = rms if rms > 0 and np.isfinite(rms) else 1.0
        x = design.X
        a = column_transform(x, allow_centring=True)
        transforms = tuple(
            column_transform(block.values, _unstructured_with_intercept(block.columns)) for block in design.blocks
        )
        scaling = Scaling(y_scale, a, transforms)
        blocks = cross_products(y / y_scale, x @ a, engine_terms(design, scaling))
        return cls(design, scaling, blocks, ProfiledDeviance(blocks, dense_threads(blocks.m)))

    @property
    def shift(self) -> dict[bool, float]:
        """Criterion shift from the internal to the user scale, for ML (False) and REML (True)."""
        n, p = self.blocks.n, self.blocks.p
        return {reml: self.scaling.objective_shift(n, p, reml) for reml in (False, True)}

    def objective(self, theta: np.ndarray, reml: bool) -> float:
        """The user-scale criterion at internal θ."""
        return self.deviance(theta, reml) + self.scaling.objective_shift(self.blocks.n, self.blocks.p, reml)

    def factors_to_user(self, theta: np.ndarray) -> list[np.ndarray]:
        """lme4's relative covariance factors (user scale) from internal θ, engine order."""
        return [
            relative_factor_to_user(t, b)
            for t, b in zip(self.deviance.layout.factors(theta), self.scaling.z_transforms, strict=True)
        ]

    def theta_to_user(self, theta: np.ndarray) -> np.ndarray:
        """lme4's θ on the user scale from internal θ."""
        return self.deviance.layout.from_factors(self.factors_to_user(theta))

    def boundary(self, theta: np.ndarray) -> tuple[TermBoundary, ...]:
        """Where each term stands with respect to the boundary at internal θ (see :mod:`lmmdx.boundary`)."""
        out = []
        internal = self.deviance.layout.factors(theta)
        for index, (block, t_int, t_user) in enumerate(
            zip(self.design.blocks, internal, self.factors_to_user(theta), strict=True)
        ):
            spread = np.sqrt(np.mean(block.values**2, axis=0))
            out.append(classify_term(index, t_int, standardised_covariance(t_user, spread)))
        return tuple(out)

    def solve(self, theta: np.ndarray, reml: bool) -> Solution:
        """The internal-scale solution at internal θ."""
        return self.deviance.solve(theta, reml)
