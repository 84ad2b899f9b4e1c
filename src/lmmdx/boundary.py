"""The boundary of the parameter space, defined once, and correlations computed one way.

Each random-effects term has the covariance ``Σ = σ² T Tᵀ`` with ``T`` lower triangular and
``diag(T) ≥ 0`` (θ lists T's elements). The boundary of the parameter space is where some
``Σ`` is rank deficient: a variance of zero, a correlation of ±1, or fewer dimensions than
the term has. A fit on the boundary is *singular*.

One tolerance decides "on the boundary" everywhere in lmmdx:

    :data:`BOUNDARY_TOLERANCE` = 1e-4, lme4's ``isSingular(x, tol = 1e-4)``: a diagonal element
    of a relative covariance factor below it is zero (Bates, Mächler, Bolker & Walker 2015,
    lme4 ``?isSingular``; the factor is relative to σ, so the test does not depend on units).

It is applied to three relative factors, all dimensionless:

* θ on the internal scale (the factor of the centred, scaled columns, see
  :mod:`lmmdx.engine.scaling`): :func:`singular_mask` gives the fit's ``singular`` flag, the
  elements the optimiser's certificate snaps to exactly 0 (:func:`held_mask` are those held
  there), and the boundary named by the Wald checks;
* one effect alone, ``SD · rms(z) / σ`` (its 1 × 1 relative factor on standardised columns):
  an effect whose variance is zero (:func:`classify_term`);
* the correlation matrix ``R`` of a term's other effects: rank deficient when the smallest
  singular value of its square root is below the tolerance, ``λ_min(R) < tol²``; for a pair,
  ``1 − |ρ| < tol²``, and then ρ *is* ±1 (:func:`correlations`).

Correlations are computed only by :func:`correlations`: clipped to [−1, 1], exactly ±1 for a
rank-deficient pair (rounding would otherwise give 1 − 1 ulp or 1 + 2 ulp depending on the
BLAS kernel), and NaN when either standard deviation is exactly zero (undefined, as in lme4,
whose ``cov2cor`` gives NaN there; JSON shows null).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOUNDARY_TOLERANCE",
    "TermBoundary",
    "classify_term",
    "correlation",
    "correlations",
    "held_mask",
    "is_singular",
    "singular_mask",
    "standardised_covariance",
]

#: lme4's ``isSingular`` tolerance on the diagonal of a relative covariance factor.
BOUNDARY_TOLERANCE = 1e-4
#: A pair with ``1 − |ρ|`` below this is rank deficient: λ_min of its correlation matrix < tol².
_PAIR_TOLERANCE = BOUNDARY_TOLERANCE**2


def singular_mask(theta: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """True for the diagonal elements of θ (internal scale) that are on the boundary.

    Parameters
    ----------
    theta : ndarray
        Internal θ.
    diagonal : ndarray of bool
        Which elements of θ are diagonal (``ThetaLayout.diagonal_mask()``).
    """
    return np.asarray(diagonal, dtype=bool) & (np.asarray(theta, dtype=np.float64) < BOUNDARY_TOLERANCE)


def held_mask(theta: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    """True for the diagonal elements of θ held exactly on their bound (0)."""
    return np.asarray(diagonal, dtype=bool) & (np.asarray(theta, dtype=np.float64) <= 0.0)


def is_singular(theta: np.ndarray, diagonal: np.ndarray) -> bool:
    """Whether a fit at internal θ is singular (some diagonal element on the boundary)."""
    return bool(np.any(singular_mask(theta, diagonal)))


def correlations(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard deviations and the correlation matrix of a covariance matrix.

    Returns
    -------
    sd : ndarray, shape (k,)
        ``sqrt(max(diag, 0))``.
    corr : ndarray, shape (k, k)
        In [−1, 1]; exactly ±1 for a rank-deficient pair (``1 − |ρ| < tol²``); NaN where
        either standard deviation is zero; 1 on the diagonal.
    """
    cov = np.asarray(cov, dtype=np.float64)
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    denom = np.outer(sd, sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denom > 0.0, cov / np.where(denom > 0.0, denom, 1.0), np.nan)
    corr = np.clip(corr, -1.0, 1.0)
    tied = np.abs(corr) > 1.0 - _PAIR_TOLERANCE
    corr[tied] = np.sign(corr[tied])
    np.fill_diagonal(corr, 1.0)
    return sd, corr


def correlation(cov: np.ndarray, i: int, j: int) -> float:
    """The correlation of effects ``i`` and ``j`` of a covariance matrix (see :func:`correlations`)."""
    return float(correlations(np.asarray(cov)[np.ix_([i, j], [i, j])])[1][0, 1])


def standardised_covariance(t_user: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``D T Tᵀ D``: a term's covariance relative to σ² on columns standardised to unit rms.

    Parameters
    ----------
    t_user : ndarray, shape (k, k)
        The relative covariance factor on the user's scale (``Σ = σ² T Tᵀ``).
    spread : ndarray, shape (k,)
        Root mean square of each column of the term's model matrix.
    """
    factor = np.asarray(t_user, dtype=np.float64) * np.asarray(spread, dtype=np.float64)[:, None]
    return factor @ factor.T


@dataclass(frozen=True, slots=True)
class TermBoundary:
    """Where one random-effects term stands with respect to the boundary.

    Attributes
    ----------
    block : int
        Engine index of the term.
    singular : bool
        Some diagonal element of its internal θ is below :data:`BOUNDARY_TOLERANCE`.
    zero_effects : tuple of int
        Columns whose variance is zero (standardised SD below the tolerance).
    correlation_boundary : bool
        The covariance of the other columns is rank deficient (a correlation of ±1 for two).
    """

    block: int
    singular: bool
    zero_effects: tuple[int, ...]
    correlation_boundary: bool

    def sd_at_edge(self, column: int) -> bool:
        """Whether the SD of ``column`` is on the boundary (zero)."""
        return column in self.zero_effects

    def correlation_at_edge(self, first: int, second: int, value: float) -> bool:
        """Whether the correlation of two columns (``value``, from :func:`correlations`) is on the boundary."""
        if first in self.zero_effects or second in self.zero_effects or not np.isfinite(value):
            return True
        return abs(value) == 1.0


def classify_term(block: int, t_internal: np.ndarray, standardised: np.ndarray) -> TermBoundary:
    """Which of a term's parameters are on the boundary.

    Parameters
    ----------
    block : int
        Engine index of the term.
    t_internal : ndarray, shape (k, k)
        The term's relative factor on the internal scale (decides whether it is singular).
    standardised : ndarray, shape (k, k)
        Its :func:`standardised_covariance` (decides which parameters are on the boundary).
    """
    singular = bool(np.any(np.diag(t_internal) < BOUNDARY_TOLERANCE))
    if not singular:
        return TermBoundary(block, False, (), False)
    sd = np.sqrt(np.maximum(np.diag(standardised), 0.0))
    zero = tuple(int(j) for j in np.nonzero(sd < BOUNDARY_TOLERANCE)[0])
    rest = [j for j in range(sd.size) if j not in zero]
    corr_boundary = False
    if len(rest) >= 2:
        _, corr = correlations(standardised[np.ix_(rest, rest)])
        corr_boundary = bool(np.linalg.eigvalsh(corr)[0] < _PAIR_TOLERANCE) or not zero
    return TermBoundary(block, True, zero, corr_boundary)
