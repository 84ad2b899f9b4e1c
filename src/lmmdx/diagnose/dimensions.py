"""How many dimensions of each random-effects covariance the data support.

Two views of each term's k × k covariance Σ:

* its principal components (lme4's ``rePCA``): the standard deviations of the
  components of the relative covariance factor (in units of σ, lme4's numbers), and
  the eigen-decomposition of the correlation matrix, whose loadings name the
  original effects that load on a collapsed component independently of units;
* a likelihood-ratio test of the weakest dimension: refit with the term's
  covariance restricted to rank k − 1 (the last diagonal element of its internal
  θ fixed at 0; a scalar term is dropped) and compare the criteria. Under the
  reduced model the statistic follows a 50:50 mixture of χ²₀ and χ²₁, since one
  variance moves to the boundary (Self & Liang 1987; Stram & Lee 1994), so the
  p-value is ``0.5 · P(χ²₁ ≥ Δ)``. A dimension that does not pass is not supported
  by the data (Bates, Kliegl, Vasishth & Baayen 2015, "Parsimonious mixed models");
* a likelihood-ratio test of each random slope: refit without that effect (its
  variance and its covariances) and refer the statistic to the 50:50 mixture of
  χ²_{k−1} and χ²_k (Stram & Lee 1994).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..boundary import correlations
from ..engine import Tolerances, minimize
from ..result import Fit

__all__ = ["DimensionTest", "TermPCA", "drop_effect", "term_pca", "weakest_dimension"]


@dataclass(frozen=True, slots=True)
class TermPCA:
    """Principal components of one term's covariance.

    Attributes
    ----------
    block : int
    sdev : ndarray, shape (k,)
        lme4's ``rePCA`` standard deviations (singular values of the user-scale
        relative covariance factor), decreasing.
    proportions : ndarray, shape (k,)
        Share of the total standardised variance of each component of the
        correlation matrix, decreasing.
    loadings : ndarray, shape (k, k)
        Columns are the components of the correlation matrix (same order).
    supported : int
        Components with a share above 1e-6.
    term : str
        The term as written, e.g. ``(1 + x | group)``.
    """

    block: int
    sdev: np.ndarray
    proportions: np.ndarray
    loadings: np.ndarray
    supported: int
    term: str = ""

    @property
    def variance_shares(self) -> np.ndarray:
        """Share of each component in the sum of ``sdev²`` (lme4's ``summary(rePCA())``)."""
        total = float(np.sum(self.sdev**2))
        return self.sdev**2 / total if total > 0 else np.zeros_like(self.sdev)


@dataclass(frozen=True, slots=True)
class DimensionTest:
    """Likelihood-ratio test of a term's weakest covariance dimension.

    Attributes
    ----------
    block : int
    statistic : float
        Increase of the criterion when the dimension is removed (≥ 0).
    p_value : float
        From the 50:50 mixture of χ²₀ and χ²₁.
    """

    block: int
    statistic: float
    p_value: float


#: Stopping rules of the restricted refits: the statistics are reported to 3 digits and
#: compared with critical values, so 1e-7 on the criterion is ample.
_TOLERANCES = Tolerances(ftol_abs=1e-7, xtol_abs=1e-7)
#: Components of the correlation matrix with a smaller share of the variance are collapsed.
_COLLAPSED = 1e-6


def term_pca(fit: Fit, block: int) -> TermPCA:
    """Principal components of term ``block``'s covariance at the fit."""
    t = fit.model.factors_to_user(fit.theta_internal)[block]
    sdev = np.linalg.svd(t, compute_uv=False)
    sd, corr = correlations(t @ t.T)
    corr = np.nan_to_num(corr, nan=0.0)  # a zero-SD effect adds no dimension
    nonzero = sd > 0
    corr[~nonzero, ~nonzero] = 0.0
    w, v = np.linalg.eigh(corr)
    w, v = np.clip(w[::-1], 0.0, None), v[:, ::-1]
    total = float(w.sum()) if w.sum() > 0 else 1.0
    props = w / total
    return TermPCA(block, sdev, props, v, int(np.sum(props > _COLLAPSED)), fit.model.design.blocks[block].term.text)


def _restricted(fit: Fit, fixed: np.ndarray) -> float:
    """Statistic: the increase of the criterion when the θ elements ``fixed`` are held at 0."""
    model, reml = fit.model, fit.reml
    layout = model.deviance.layout
    theta = np.asarray(fit.theta_internal, dtype=np.float64)
    free = np.ones(theta.size, dtype=bool)
    free[fixed] = False
    base = theta.copy()
    base[fixed] = 0.0
    full_value = model.deviance(theta, reml)

    def reduced(x: np.ndarray) -> float:
        candidate = base.copy()
        candidate[free] = x
        return model.deviance(candidate, reml)

    if free.any():
        # the restricted criterion may have a local optimum for each sign of the
        # correlations: start from the estimate and from its mirror image
        mirrored = np.where(layout.diagonal_mask(), base, -base)
        starts = [base] if np.array_equal(mirrored, base) else [base, mirrored]
        value = min(reduced(base[free]), *(minimize(reduced, start[free], layout.lower()[free], "bobyqa",
                                                    _TOLERANCES).fmin for start in starts))
    else:
        value = model.deviance(base, reml)
    return max(float(value - full_value), 0.0) if np.isfinite(value) else float("inf")


def _mixture_p(statistic: float, df_low: int, df_high: int) -> float:
    """``0.5 P(χ²_low ≥ s) + 0.5 P(χ²_high ≥ s)`` (χ²₀ is a point mass at 0)."""
    if statistic <= 0:
        return 1.0
    low = float(stats.chi2.sf(statistic, df_low)) if df_low > 0 else 0.0
    return 0.5 * low + 0.5 * float(stats.chi2.sf(statistic, df_high))


def weakest_dimension(fit: Fit, block: int) -> DimensionTest:
    """Refit with term ``block`` reduced by one dimension and test the loss (50:50 χ²₀ : χ²₁)."""
    layout = fit.model.deviance.layout
    k = layout.sizes[block]
    last = layout.offsets[block] + k * (k + 1) // 2 - 1  # the term's last diagonal element
    statistic = _restricted(fit, np.array([last]))
    return DimensionTest(block, statistic, _mixture_p(statistic, 0, 1))


def drop_effect(fit: Fit, block: int, column: int) -> DimensionTest:
    """Refit without random effect ``column`` of term ``block`` (its variance and covariances).

    Holding row ``column`` of the term's internal factor at 0 removes that effect on
    the user's scale too (the internal centring only moves the intercept). The
    statistic is referred to the 50:50 mixture of χ²_{k−1} and χ²_k (Stram & Lee 1994).
    """
    layout = fit.model.deviance.layout
    k = layout.sizes[block]
    rows, _ = layout.tril(k)
    fixed = layout.offsets[block] + np.nonzero(rows == column)[0]
    statistic = _restricted(fit, fixed)
    return DimensionTest(block, statistic, _mixture_p(statistic, k - 1, k))
