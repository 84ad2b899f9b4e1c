"""θ, lme4's parameterisation of the random-effects covariance.

Each term with ``k`` random effects per level has a lower-triangular ``k × k``
relative covariance factor ``T`` (covariance ``σ² T Tᵀ``); θ lists the lower
triangles column by column, term after term. Diagonal elements are bounded
below by 0, the others are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["ThetaLayout"]


@dataclass(frozen=True, slots=True)
class ThetaLayout:
    """Where each term's factor lives in θ.

    Attributes
    ----------
    sizes : tuple of int
        ``k`` of each term, in engine order.
    """

    sizes: tuple[int, ...]

    @property
    def offsets(self) -> tuple[int, ...]:
        """Index in θ where each term starts."""
        return _offsets(self.sizes)

    @property
    def ntheta(self) -> int:
        """Length of θ."""
        return sum(k * (k + 1) // 2 for k in self.sizes)

    @staticmethod
    def tril(k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of a ``k × k`` lower triangle in θ's (column-major) order."""
        return _tril(k)

    def diagonal_mask(self) -> np.ndarray:
        """True where θ holds a diagonal element (bounded below by 0)."""
        out = []
        for k in self.sizes:
            rows, cols = self.tril(k)
            out.append(rows == cols)
        return np.concatenate(out)

    def lower(self) -> np.ndarray:
        """Lower bounds: 0 for diagonal elements, -inf otherwise."""
        return np.where(self.diagonal_mask(), 0.0, -np.inf)

    def start(self) -> np.ndarray:
        """lme4's starting point: identity factors."""
        return self.diagonal_mask().astype(np.float64)

    def factors(self, theta: np.ndarray) -> list[np.ndarray]:
        """The lower-triangular factor ``T`` of each term."""
        out = []
        for k, at in zip(self.sizes, self.offsets, strict=True):
            t = np.zeros((k, k))
            rows, cols = self.tril(k)
            t[rows, cols] = theta[at : at + rows.size]
            out.append(t)
        return out

    def from_factors(self, factors: list[np.ndarray]) -> np.ndarray:
        """θ from the factors (inverse of :meth:`factors`)."""
        parts = []
        for k, t in zip(self.sizes, factors, strict=True):
            rows, cols = self.tril(k)
            parts.append(np.asarray(t)[rows, cols])
        return np.concatenate(parts) if parts else np.zeros(0)


@lru_cache(maxsize=64)
def _tril(k: int) -> tuple[np.ndarray, np.ndarray]:
    cols, rows = np.triu_indices(k)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


@lru_cache(maxsize=256)
def _offsets(sizes: tuple[int, ...]) -> tuple[int, ...]:
    out, at = [], 0
    for k in sizes:
        out.append(at)
        at += k * (k + 1) // 2
    return tuple(out)
