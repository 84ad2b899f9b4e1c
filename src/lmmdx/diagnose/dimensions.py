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
  by the data (Bates, Kliegl, Vasishth & Baayen 2015, "Parsimonious mixed models").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..engine import minimize
from ..result import Fit

__all__ = ["DimensionTest", "TermPCA", "term_pca", "weakest_dimension"]


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
    """

    block: int
    sdev: np.ndarray
    proportions: np.ndarray
    loadings: np.ndarray
    supported: int


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


#: Components of the correlation matrix with a smaller share of the variance are collapsed.
_COLLAPSED = 1e-6


def term_pca(fit: Fit, block: int) -> TermPCA:
    """Principal components of term ``block``'s covariance at the fit."""
    t = fit.model.factors_to_user(fit.theta_internal)[block]
    sdev = np.linalg.svd(t, compute_uv=False)
    cov = t @ t.T
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    k = cov.shape[0]
    nonzero = sd > 0
    corr = np.eye(k)
    corr[np.ix_(nonzero, nonzero)] = cov[np.ix_(nonzero, nonzero)] / np.outer(sd[nonzero], sd[nonzero])
    corr[~nonzero, ~nonzero] = 0.0
    w, v = np.linalg.eigh(corr)
    w, v = np.clip(w[::-1], 0.0, None), v[:, ::-1]
    total = float(w.sum()) if w.sum() > 0 else 1.0
    props = w / total
    return TermPCA(block, sdev, props, v, int(np.sum(props > _COLLAPSED)))


def weakest_dimension(fit: Fit, block: int) -> DimensionTest:
    """Refit with term ``block`` reduced by one dimension and test the loss."""
    model, reml = fit.model, fit.reml
    layout = model.deviance.layout
    theta = np.asarray(fit.theta_internal, dtype=np.float64)
    k = layout.sizes[block]
    fixed_index = layout.offsets[block] + k * (k + 1) // 2 - 1  # the term's last diagonal element
    free = np.ones(theta.size, dtype=bool)
    free[fixed_index] = False
    base = theta.copy()
    base[fixed_index] = 0.0
    full_value = model.deviance(theta, reml)

    def reduced(x: np.ndarray) -> float:
        candidate = base.copy()
        candidate[free] = x
        return model.deviance(candidate, reml)

    if free.any():
        trace = minimize(reduced, base[free], layout.lower()[free])
        value = min(trace.fmin, reduced(base[free]))
    else:
        value = model.deviance(base, reml)
    statistic = max(float(value - full_value), 0.0) if np.isfinite(value) else float("inf")
    p = 1.0 if statistic <= 0 else 0.5 * float(stats.chi2.sf(statistic, 1))
    return DimensionTest(block, statistic, p)
