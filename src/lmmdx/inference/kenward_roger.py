"""Kenward–Roger: the adjusted covariance of β̂ and the denominator df, as pbkrtest 0.5 computes them.

The marginal covariance is linear in the covariance parameters γ (each term's
variances and covariances, then σ²): ``Σ = Σᵣ γᵣ Gᵣ``. With ``Φ = (XᵀΣ⁻¹X)⁻¹``,
``Pᵣ = −XᵀΣ⁻¹GᵣΣ⁻¹X``, ``Qᵣₛ = XᵀΣ⁻¹GᵣΣ⁻¹GₛΣ⁻¹X`` and the expected information
``Iᵣₛ = tr(Σ⁻¹GᵣΣ⁻¹Gₛ) − 2 tr(ΦQᵣₛ) + tr(ΦPᵣΦPₛ)`` (times ½), ``W = 2 I⁻¹`` and::

    Φ_A = Φ + 2 Φ [Σᵣₛ Wᵣₛ (Qᵣₛ − Pᵣ Φ Pₛ)] Φ

(Kenward & Roger 1997, Biometrics 53; Halekoh & Højsgaard 2014, JSS 59(9);
pbkrtest's ``vcovAdj_internal``, ``Lb_ddf`` and ``.KR_adjust``.)

Σ is handled as a dense n × n matrix, so this is limited to :data:`KR_MAX_NOBS`
observations; each Gᵣ is kept as products of the n × levels indicator blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg

from ..errors import FitError

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["KR_MAX_NOBS", "KenwardRoger", "kenward_roger"]

#: Largest data set for the dense n × n computation (about 70 MB and a few seconds).
KR_MAX_NOBS = 3000
#: pbkrtest: the information matrix is inverted with ``solve`` when its smallest
#: absolute eigenvalue exceeds this, else with ``MASS::ginv``.
_CONDITION = 1e-10
#: pbkrtest's ``.KR_adjust``: V0 = 1 + c₁B is set to 0 below this.
_TINY = 1e-10


@dataclass(frozen=True, slots=True)
class KenwardRoger:
    """The pieces of the Kenward–Roger adjustment of one REML fit.

    Attributes
    ----------
    vcov : ndarray, shape (p, p)
        Φ, the unadjusted covariance of β̂.
    vcov_adjusted : ndarray, shape (p, p)
        Φ_A.
    p_matrices : ndarray, shape (m, p, p)
        Pᵣ for each of the m covariance parameters.
    w : ndarray, shape (m, m)
        2 × the inverse expected information of the covariance parameters.
    information_eigenvalues : ndarray, shape (m,)
        Of that expected information (for the near-singularity check).
    """

    vcov: np.ndarray
    vcov_adjusted: np.ndarray
    p_matrices: np.ndarray
    w: np.ndarray
    information_eigenvalues: np.ndarray

    def _a1_a2(self, contrast: np.ndarray) -> tuple[float, float]:
        phi = self.vcov
        l = contrast
        theta = l.T @ np.linalg.solve(l @ phi @ l.T, l)
        u = np.einsum("ab,rbc,cd->rad", theta @ phi, self.p_matrices, phi)
        traces = np.einsum("raa->r", u)
        a1 = float(traces @ self.w @ traces)
        cross = np.einsum("rab,sba->rs", u, u)
        a2 = float(np.sum(self.w * cross))
        return a1, a2

    def test(self, contrast: np.ndarray, beta: np.ndarray, rhs: np.ndarray | None = None) -> tuple[float, float, int]:
        """F value (scaled), denominator df and numerator df of ``L β = rhs`` (pbkrtest's ``KRmodcomp``).

        Parameters
        ----------
        contrast : ndarray, shape (q, p)
        beta : ndarray, shape (p,)
        rhs : ndarray, shape (q,), optional
        """
        l = np.atleast_2d(np.asarray(contrast, dtype=np.float64))
        q = int(np.linalg.matrix_rank(l))
        a1, a2 = self._a1_a2(l)
        b = (a1 + 6.0 * a2) / (2.0 * q)
        g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
        denom = 3.0 * q + 2.0 * (1.0 - g)
        c1, c2, c3 = g / denom, (q - g) / denom, (q + 2.0 - g) / denom
        v0 = 1.0 + c1 * b
        v0 = 0.0 if abs(v0) < _TINY else v0
        v1, v2 = 1.0 - c2 * b, 1.0 - c3 * b
        ratio = (1.0 - a2 / q) / v1 if v1 != 0 else 0.0
        rho = ratio**2 * v0 / (v2 * q)
        df2 = 4.0 + (q + 2.0) / (q * rho - 1.0)
        scaling = 1.0 if abs(df2 - 4.0) < 1e-2 else df2 * (1.0 - a2 / q) / (df2 - 2.0)
        diff = l @ beta - (np.zeros(l.shape[0]) if rhs is None else rhs)
        wald = float(diff @ np.linalg.solve(l @ self.vcov_adjusted @ l.T, diff))
        return scaling * wald / q, df2, q


def _components(fit: Fit) -> tuple[list[np.ndarray], list[tuple[int, ...]], np.ndarray]:
    """Indicator blocks Zₐ (n × levels) of every random-effect column, the pairs (a, b) of
    each covariance parameter, and the parameter values γ (σ² last)."""
    design = fit.model.design
    z: list[np.ndarray] = []
    pairs: list[tuple[int, ...]] = []
    gamma: list[float] = []
    comps = iter(c for c in fit.random_effects if c.term is not None)
    corr = {(c.group, c.term1, c.term2): c.corr for c in fit.correlations}
    for block in design.blocks:
        onehot = np.zeros((design.nobs, block.nlevels))
        onehot[np.arange(design.nobs), block.factor.codes] = 1.0
        start = len(z)
        sds = []
        for j in range(block.k):
            z.append(onehot * block.values[:, j : j + 1])
            sds.append(next(comps).sd)
        rows, cols = np.tril_indices(block.k)
        order = np.lexsort((rows, cols))  # column-major lower triangle, as pbkrtest
        for r, c in zip(rows[order], cols[order], strict=True):
            pairs.append((start + c,) if r == c else (start + c, start + r))
            value = sds[r] ** 2 if r == c else corr[(block.group, block.columns[c], block.columns[r])] * sds[r] * sds[c]
            gamma.append(0.0 if not np.isfinite(value) else value)
    gamma.append(fit.sigma**2)
    return z, pairs, np.asarray(gamma)


def kenward_roger(fit: Fit) -> KenwardRoger:
    """The Kenward–Roger adjustment of a REML fit.

    Raises
    ------
    FitError
        For ML fits (pbkrtest refits by REML, lmerTest refuses), and beyond
        :data:`KR_MAX_NOBS` observations.
    """
    if not fit.reml:
        raise FitError("Kenward-Roger degrees of freedom need a REML fit; refit with reml=True (drop --ml)")
    n = fit.nobs
    if n > KR_MAX_NOBS:
        raise FitError(
            f"Kenward-Roger is computed with dense {n} x {n} matrices here, limited to {KR_MAX_NOBS} "
            "observations; use Satterthwaite (the default)"
        )
    x = fit.model.design.X
    z, pairs, gamma = _components(fit)
    sigma = np.eye(n) * gamma[-1]
    for value, pair in zip(gamma[:-1], pairs, strict=True):
        a, b = pair[0], pair[-1]
        sigma += value * (z[a] @ z[b].T if len(pair) == 1 else z[a] @ z[b].T + z[b] @ z[a].T)
    chol = scipy.linalg.cho_factor(sigma, lower=True)
    s = scipy.linalg.cho_solve(chol, np.eye(n))
    phi = np.asarray(fit.vcov_beta)
    tt = s @ x
    w_blocks = [s @ za for za in z]

    def g_times(pair: tuple[int, ...] | None, m: np.ndarray) -> np.ndarray:
        if pair is None:
            return m
        a, b = pair[0], pair[-1]
        out = z[a] @ (z[b].T @ m)
        return out if len(pair) == 1 else out + z[b] @ (z[a].T @ m)

    params: list[tuple[int, ...] | None] = [*pairs, None]
    m = len(params)
    o = [g_times(pr, tt) for pr in params]
    so = [s @ oi for oi in o]
    p_mats = np.array([-(oi.T @ tt) for oi in o])
    p_mats = 0.5 * (p_mats + p_mats.transpose(0, 2, 1))
    q_mats = [[o[r].T @ so[t] for t in range(m)] for r in range(m)]

    def terms(pair: tuple[int, ...] | None) -> list[tuple[int, int]]:
        if pair is None:
            return []
        a, b = pair[0], pair[-1]
        return [(a, b)] if len(pair) == 1 else [(a, b), (b, a)]

    ktrace = np.zeros((m, m))
    for r in range(m):
        for t in range(r, m):
            pr, pt = params[r], params[t]
            if pr is None and pt is None:
                value = float(np.sum(s * s))
            elif pr is None or pt is None:
                value = sum(float(np.sum(w_blocks[v] * w_blocks[u])) for u, v in terms(pr if pt is None else pt))
            else:
                value = 0.0
                for u, v in terms(pr):
                    for u2, v2 in terms(pt):
                        value += float(np.sum((z[v].T @ w_blocks[u2]) * (z[u].T @ w_blocks[v2])))
            ktrace[r, t] = ktrace[t, r] = value
    info = np.zeros((m, m))
    for r in range(m):
        phi_p = phi @ p_mats[r]
        for t in range(r, m):
            info[r, t] = info[t, r] = (
                ktrace[r, t] - 2.0 * float(np.sum(phi * q_mats[r][t])) + float(np.sum(phi_p * (p_mats[t] @ phi)))
            )
    eig = np.linalg.eigvalsh(info)
    ww = 2.0 * (np.linalg.inv(info) if np.min(np.abs(eig)) > _CONDITION else np.linalg.pinv(info))
    ww = 0.5 * (ww + ww.T)
    uu = np.zeros_like(phi)
    for r in range(m):
        for t in range(m):
            uu += ww[r, t] * (q_mats[r][t] - p_mats[r] @ phi @ p_mats[t])
    adjusted = phi + 2.0 * (phi @ uu @ phi)
    return KenwardRoger(phi, 0.5 * (adjusted + adjusted.T), p_mats, ww, eig)
