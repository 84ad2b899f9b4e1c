"""Seams to the diagnosis (issue 4) and to inference (issue 5).

The remedy needs three things that belong to other layers: the Satterthwaite
degrees of freedom of a fixed-effect contrast, the p-value of a chi-bar-square
mixture for a likelihood-ratio test on the boundary, and the one-line verdict of
a diagnosis. This module is the only place the remedy asks for them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from ..model import Model
from ..result import Fit

__all__ = ["chibar_pvalue", "satterthwaite_df", "verdict"]

#: Relative step of the central differences for the Hessian and the gradient.
_STEP = 1e-4
_LOG_2PI = float(np.log(2.0 * np.pi))


def chibar_pvalue(statistic: float, df_low: int, df_high: int) -> float:
    """Upper tail of the 50:50 mixture of χ²(df_low) and χ²(df_high) (Stram & Lee 1994).

    ``df_low = 0`` is the point mass at 0 (one variance on its boundary, Self & Liang 1987).
    """
    stat = max(float(statistic), 0.0)

    def tail(df: int) -> float:
        if df == 0:
            return 1.0 if stat <= 0.0 else 0.0
        return float(special.chdtrc(df, stat))

    return 0.5 * tail(df_low) + 0.5 * tail(df_high)


def _deviance(
    model: Model, reml: bool, penalty: Callable[[np.ndarray], float] | None
) -> Callable[..., float]:
    """−2 log L (REML or ML) over (θ, σ) on the internal scale, σ not profiled, plus ``penalty(θ)``."""
    n, p = model.blocks.n, model.blocks.p

    def value(varpar: np.ndarray) -> float:
        theta, sigma = varpar[:-1], varpar[-1]
        parts = model.deviance.parts(theta)
        if parts is None or sigma <= 0:
            return np.inf
        dof = n - p if reml else n
        out = parts.logdet_l + dof * (_LOG_2PI + 2.0 * np.log(sigma)) + parts.pwrss / sigma**2
        if reml:
            out += parts.logdet_x
        return float(out + (penalty(theta) if penalty is not None else 0.0))

    return value


def _hessian(fun: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    h = _STEP * np.maximum(np.abs(x), 1e-2)
    k = x.size
    out = np.empty((k, k))
    f0 = fun(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        out[i, i] = (fun(x + ei) - 2.0 * f0 + fun(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            value = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)) / (
                4 * h[i] * h[j]
            )
            out[i, j] = out[j, i] = value
    return out


def satterthwaite_df(
    model: Model,
    theta: np.ndarray,
    sigma: float,
    reml: bool,
    contrasts: np.ndarray,
    penalty: Callable[[np.ndarray], float] | None = None,
) -> np.ndarray:
    """Satterthwaite degrees of freedom of ``c'β`` for each row ``c`` of ``contrasts``.

    As lmerTest: ``df = 2 (c'Vc)² / (gᵀ A g)`` with ``A = 2 H⁻¹`` the asymptotic
    covariance of the variance parameters (H the Hessian of −2 log L in (θ, σ)) and
    ``g`` the gradient of ``c'V(θ, σ)c``. Both are invariant to the parameterisation
    at the optimum, so the internal scale is used.

    Parameters
    ----------
    model : Model
    theta : ndarray, shape (ntheta,)
        Internal θ at the optimum (of the penalised criterion when ``penalty`` is given).
    sigma : float
        Internal residual SD at that θ.
    reml : bool
    contrasts : ndarray, shape (m, p)
        Contrasts on the user's scale of β.
    penalty : callable, optional
        −2 log prior of θ (penalised fits).

    Returns
    -------
    ndarray, shape (m,)
    """
    contrasts = np.atleast_2d(np.asarray(contrasts, dtype=np.float64))
    c_int = contrasts @ model.scaling.x_transform  # c'β_user ∝ c'A β_int
    varpar = np.append(np.asarray(theta, dtype=np.float64), sigma)

    def variances(v: np.ndarray) -> np.ndarray:
        lx = model.deviance.solve(v[:-1], reml).lx
        half = np.linalg.solve(lx, c_int.T)  # L_X⁻¹ c
        return v[-1] ** 2 * np.sum(half * half, axis=0)

    hess = _hessian(_deviance(model, reml, penalty), varpar)
    h = _STEP * np.maximum(np.abs(varpar), 1e-2)
    grads = np.empty((contrasts.shape[0], varpar.size))
    for i in range(varpar.size):
        e = np.zeros(varpar.size)
        e[i] = h[i]
        grads[:, i] = (variances(varpar + e) - variances(varpar - e)) / (2 * h[i])
    try:
        cov = 2.0 * np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = 2.0 * np.linalg.pinv(hess)
    var = variances(varpar)
    denom = np.einsum("mi,ij,mj->m", grads, cov, grads)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 2.0 * var**2 / denom
    return np.where(np.isfinite(df) & (df > 0), df, np.nan)


def verdict(fit: Fit) -> str:
    """A one-line verdict on a fit."""
    if not fit.converged:
        return "did not converge"
    if fit.singular:
        return "singular fit"
    return "ok"
