"""Satterthwaite's degrees of freedom, computed as lmerTest 3.1 does.

For a contrast ``l`` the variance of ``l β̂`` is ``v(φ) = l C(φ) lᵀ``, a function of the
variance parameters ``φ = varpar = (θ, σ)``. With ``A = 2 H⁻¹`` the asymptotic
covariance of φ̂ (``H`` the Hessian of the non-profiled REML or ML criterion over φ,
a Moore–Penrose inverse over eigenvalues above :data:`EIGEN_TOLERANCE`) and
``g = ∂v/∂φ``::

    df = 2 v² / (g A gᵀ)

(Satterthwaite 1946; Kuznetsova, Brockhoff & Christensen 2017, JSS 82(13), eq. 4.)
Multi-row contrasts use lmerTest's ``contestMD``: the contrast is rotated to
independent rows, and their df ``νₘ`` combine as ``2E/(E − q)``, ``E = Σ νₘ/(νₘ − 2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..blas import single_threaded
from .derivatives import hessian, jacobian
from .varpar import VarparCriterion

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["EIGEN_TOLERANCE", "VarparInformation", "satterthwaite_df", "satterthwaite_df_1d", "varpar_information"]

#: lmerTest's ``as_lmerModLmerTest(tol = 1e-8)``: Hessian eigenvalues below this are
#: dropped from the generalised inverse (and reported as "close to zero").
EIGEN_TOLERANCE = 1e-8
#: lmerTest's ``contestMD(eps = sqrt(.Machine$double.eps))``: rank tolerance of L C Lᵀ.
RANK_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))
#: lmerTest's ``get_Fstat_ddf(tol = 1e-8)``: equal νₘ are averaged.
_EQUAL_DF = 1e-8


@dataclass(frozen=True, slots=True)
class VarparInformation:
    """The curvature of the criterion over the variance parameters, computed once per fit.

    Attributes
    ----------
    names : tuple of str
        θ names, then ``"sigma"``.
    varpar : ndarray, shape (k,)
        ``(θ̂, σ̂)`` on the user's scale.
    hessian : ndarray, shape (k, k)
        Hessian of the non-profiled criterion (REML for REML fits) over ``varpar``.
    eigenvalues : ndarray, shape (k,)
        Of ``hessian``, ascending.
    vcov_varpar : ndarray, shape (k, k)
        ``2 H⁺``, the asymptotic covariance of ``varpar`` (Moore–Penrose inverse).
    jacobian : ndarray, shape (p, p, k)
        ``∂ Var(β̂) / ∂ varparᵢ`` in ``[:, :, i]``.
    vcov_beta : ndarray, shape (p, p)
    """

    names: tuple[str, ...]
    varpar: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    vcov_varpar: np.ndarray
    jacobian: np.ndarray
    vcov_beta: np.ndarray

    @property
    def rank_deficient(self) -> bool:
        """Some eigenvalue of the Hessian is below :data:`EIGEN_TOLERANCE` (or negative, or not finite)."""
        return not bool(np.all(self.eigenvalues >= EIGEN_TOLERANCE))


def varpar_information(fit: Fit, penalty: Callable[[np.ndarray], float] | None = None) -> VarparInformation:
    """Hessian of the criterion and Jacobian of Var(β̂) over ``(θ, σ)`` at the fit.

    Parameters
    ----------
    fit : Fit
    penalty : callable, optional
        A function of lme4's θ (user scale) added to the criterion, such as the −2 log
        prior of a penalised fit (:mod:`lmmdx.remedy.penalised`): the Hessian is then
        that of the penalised criterion, at its optimum.
    """
    with single_threaded():
        return _varpar_information(fit, penalty)


def _varpar_information(fit: Fit, penalty: Callable[[np.ndarray], float] | None) -> VarparInformation:
    crit = VarparCriterion(fit.model, fit.reml)
    varpar = np.append(np.asarray(fit.theta, dtype=np.float64), fit.sigma)
    objective = crit if penalty is None else (lambda v: crit(v) + penalty(v[:-1]))
    h = hessian(objective, varpar)
    h = 0.5 * (h + h.T)
    if np.all(np.isfinite(h)):
        w, v = np.linalg.eigh(h)
        keep = w > EIGEN_TOLERANCE
        inverse = (v[:, keep] / w[keep]) @ v[:, keep].T
    else:  # the criterion is not finite at some trial step (a response fitted almost exactly): no information
        w, inverse = np.full(h.shape[0], np.nan), np.full(h.shape, np.nan)
    jac = jacobian(crit.vcov_beta, varpar)
    return VarparInformation(
        names=(*fit.theta_names, "sigma"),
        varpar=varpar,
        hessian=h,
        eigenvalues=w,
        vcov_varpar=2.0 * inverse,
        jacobian=jac,
        vcov_beta=np.asarray(fit.vcov_beta),
    )


def satterthwaite_df_1d(info: VarparInformation, contrast: np.ndarray) -> float:
    """Satterthwaite df of one contrast ``l β`` (lmerTest's ``contest1D``).

    Parameters
    ----------
    contrast : ndarray, shape (p,)
    """
    l = np.asarray(contrast, dtype=np.float64)
    with np.errstate(all="ignore"):  # degenerate information: the df is undefined (NaN), not a warning
        variance = float(l @ info.vcov_beta @ l)
        grad = np.einsum("i,ijk,j->k", l, info.jacobian, l)
        denominator = float(grad @ info.vcov_varpar @ grad)
    if denominator <= 0 or not np.isfinite(denominator):
        return float("nan")
    return 2.0 * variance**2 / denominator


def _combine(nu: np.ndarray) -> float:
    """lmerTest's ``get_Fstat_ddf``: df of an F made of independent t² with df νₘ."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < _EQUAL_DF):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    e = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * e / (e - nu.size)


def satterthwaite_df(
    info: VarparInformation, contrast: np.ndarray, beta: np.ndarray
) -> tuple[float, float, int]:
    """F value, denominator df and numerator df of ``L β = 0`` (lmerTest's ``contestMD``).

    Parameters
    ----------
    contrast : ndarray, shape (q, p)
    beta : ndarray, shape (p,)

    Returns
    -------
    f_value, den_df, num_df
    """
    l = np.atleast_2d(np.asarray(contrast, dtype=np.float64))
    vl = l @ info.vcov_beta @ l.T
    d, p = np.linalg.eigh(0.5 * (vl + vl.T))
    d, p = d[::-1], p[:, ::-1]
    tol = max(RANK_TOLERANCE * d[0], 0.0)
    q = int(np.sum(d > tol))
    if q == 0:
        return float("nan"), float("nan"), 0
    ptl = p[:, :q].T @ l
    t2 = (ptl @ beta) ** 2 / d[:q]
    f_value = float(t2.sum() / q)
    nu = np.array([satterthwaite_df_1d(info, row) for row in ptl])
    return f_value, _combine(nu), q
