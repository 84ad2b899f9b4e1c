"""The profiled REML / ML criterion as a function of θ, computed from :class:`Blocks`.

Write Λ(θ) for the block-diagonal relative covariance factor. The criterion needs
the Cholesky factor of the penalised cross-product matrix of ``[ZΛ, X, y]``::

    [ΛᵀZᵀZΛ + I   ΛᵀZᵀX   ΛᵀZᵀy]
    [XᵀZΛ         XᵀX     Xᵀy  ]   =  L Lᵀ
    [yᵀZΛ         yᵀX     yᵀy  ]

computed blockwise: the first term (most levels) is block diagonal and is
eliminated level by level; what remains, of order ``m = q_rest + p + 1``, is
factored densely. From L: ``log|L_Z|²``, ``log|L_X|²`` and the penalised residual
sum of squares ``r² = L[-1, -1]²`` give the criterion in closed form, and REML
differs from ML only in the denominator and the ``log|L_X|²`` term
(Bates et al. 2015, JSS 67(1), eqs. 34 and 41).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from .crossprod import Blocks
from .schur import SchurOperator, packed_pairs
from .theta import ThetaLayout

__all__ = ["DevianceParts", "ProfiledDeviance", "Solution", "criterion", "criterion_at_sigma"]

_LOG_2PI = float(np.log(2.0 * np.pi))
#: RᵀZ₁ with at most this many entries is kept dense for the solves and the gradient.
_DENSE_A21_LIMIT = 200_000
#: X's rows of RᵀZ₁ (single-block models) are kept dense, transposed, up to this many entries.
_DENSE_LEAD_LIMIT = 4_000_000


@dataclass(frozen=True, slots=True)
class DevianceParts:
    """The three numbers the criterion is made of.

    Attributes
    ----------
    logdet_l : float
        ``log|ΛᵀZᵀZΛ + I|``.
    logdet_x : float
        ``log|L_X|²``, the log-determinant of X's block after eliminating the random effects.
    pwrss : float
        Penalised residual sum of squares at the conditional optimum of (β, u).
    """

    logdet_l: float
    logdet_x: float
    pwrss: float


def criterion(parts: DevianceParts, n: int, p: int, reml: bool) -> float:
    """Profiled deviance (ML) or REML criterion, with σ and β profiled out."""
    if parts.pwrss <= 0.0:
        return -np.inf
    if reml:
        dof = n - p
        return parts.logdet_l + parts.logdet_x + dof * (1.0 + _LOG_2PI + np.log(parts.pwrss / dof))
    return parts.logdet_l + n * (1.0 + _LOG_2PI + np.log(parts.pwrss / n))


def criterion_at_sigma(parts: DevianceParts, n: int, p: int, reml: bool, sigma2: float) -> float:
    """The criterion with σ² given rather than profiled out (internal scale)::

        log|L_Z|² [+ log|L_X|² for REML] + r²/σ² + ν log(2πσ²),   ν = n − p (REML) or n

    At σ² = r²/ν it equals :func:`criterion`.
    """
    dof = n - p if reml else n
    value = parts.logdet_l + parts.pwrss / sigma2 + dof * (_LOG_2PI + np.log(sigma2))
    return float(value + parts.logdet_x) if reml else float(value)


@dataclass(frozen=True, slots=True)
class Solution:
    """Everything that follows from θ at the optimum.

    Attributes
    ----------
    theta : ndarray
    objective : float
    parts : DevianceParts
    sigma : float
        Residual standard deviation (``r²/(n-p)`` for REML, ``r²/n`` for ML).
    beta : ndarray, shape (p,)
    lx : ndarray, shape (p, p)
        Lower Cholesky factor of X's block; ``Var(β̂) = σ² (L_X L_Xᵀ)⁻¹``.
    u : list of ndarray, each (ℓᵢ, kᵢ)
        Spherical random effects, in engine order.
    b : list of ndarray, each (ℓᵢ, kᵢ)
        Conditional modes ``b = Λu`` of each term.
    """

    theta: np.ndarray
    objective: float
    parts: DevianceParts
    sigma: float
    beta: np.ndarray
    lx: np.ndarray
    u: list[np.ndarray]
    b: list[np.ndarray]

    @property
    def vcov_beta(self) -> np.ndarray:
        """Covariance matrix of β̂, shape (p, p)."""
        if self.lx.shape[0] == 0:  # no fixed effects (y ~ 0 + (1 | g)); LAPACK would complain on stdout
            return np.zeros((0, 0))
        inv, info = lapack.dtrtri(self.lx, lower=1)
        if info != 0:
            return np.full_like(self.lx, np.nan)
        return self.sigma**2 * (inv.T @ inv)


class ProfiledDeviance:
    """Evaluates the criterion at θ from the blocks; a private workspace of the fit.

    Instances hold only read-only precomputed structure, so one instance may be
    evaluated from several threads. ``dense_threads`` makes the context put around
    the dense factorisations (the caller's thread policy; none by default).
    """

    def __init__(
        self, blocks: Blocks, dense_threads: Callable[[], AbstractContextManager[Any]] = nullcontext
    ) -> None:
        self.blocks = blocks
        self.dense_threads = dense_threads
        members = blocks.term_members
        #: θ's layout: one factor per formula term (terms on one factor are members of one block)
        self.layout = ThetaLayout(tuple(k for sizes in members for k in sizes))
        #: the engine's layout: one (block-diagonal) factor per block
        self.engine_layout = ThetaLayout(blocks.sizes)
        self._members = members
        self._embed = _embedding(members, self.engine_layout)
        self.n, self.p, self.m = blocks.n, blocks.p, blocks.m
        self.q_rest = blocks.q_rest
        k1 = blocks.sizes[0]
        self._k1 = k1
        rows, cols = packed_pairs(k1)
        self._a11_packed = np.ascontiguousarray(blocks.a11[:, rows, cols].T)
        self._eye2 = np.array([[1.0], [0.0], [1.0]])
        self._segments: list[tuple[int, int, int]] = []
        at = 0
        for nlev, k in zip(blocks.levels[1:], blocks.sizes[1:], strict=True):
            self._segments.append((at, nlev, k))
            at += nlev * k
        self._scalar_rest = all(k == 1 for _, _, k in self._segments)
        if self._scalar_rest:
            # engine-θ index of each rest row's λ; index ntheta stands for 1 (X and y rows)
            index = np.full(self.m, self.engine_layout.ntheta, dtype=np.int64)
            for (start, nlev, _), offset in zip(self._segments, self.engine_layout.offsets[1:], strict=True):
                index[start : start + nlev] = offset
            self._lam_index = index
        self._schur = SchurOperator(blocks.a21, k1, full=not self._scalar_rest)
        # RᵀZ₁ for the solves: dense when small (or already dense), row-sliceable CSR otherwise
        a21 = blocks.a21
        if self._schur.wt is not None:
            self.a21: np.ndarray | sp.csr_array = self._schur.wt.T
        elif a21.shape[0] * a21.shape[1] <= _DENSE_A21_LIMIT:
            self.a21 = a21.toarray()
        else:
            self.a21 = sp.csr_array(a21)
        self._diag_rest = np.arange(self.q_rest) * (self.m + 1)
        #: With a single block, X's rows of RᵀZ₁ transposed (ℓ₁k₁, m − 1), dense: the gradient's
        #: ``Vⱼᵀ S_X⁻¹ Vⱼ`` come from one triangular product with them
        self.lead_t: np.ndarray | None = None
        if not self._segments and self.m > 1 and (self.m - 1) * a21.shape[1] <= _DENSE_LEAD_LIMIT:
            lead = self.a21[: self.m - 1]
            dense_lead = lead.toarray() if isinstance(lead, sp.csr_array) else np.asarray(lead)
            self.lead_t = np.ascontiguousarray(dense_lead.T)

    def engine_theta(self, theta: np.ndarray) -> np.ndarray:
        """θ of the engine's blocks (full lower triangles; zeros between members of a block)."""
        if self._embed is None:
            return theta
        full = np.zeros(self.engine_layout.ntheta)
        full[self._embed] = theta
        return full

    def engine_factors(self, theta: np.ndarray) -> list[np.ndarray]:
        """The factor of each engine block (block diagonal over its members) at θ."""
        return self.engine_layout.factors(self.engine_theta(np.asarray(theta, dtype=np.float64)))

    @property
    def ntheta(self) -> int:
        """Number of θ parameters."""
        return self.layout.ntheta

    # -- the first term, level by level -------------------------------------------------
    def _first_term(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """``Σⱼ log|Dⱼ|`` and the packed ``Mⱼ = T₁ Dⱼ⁻¹ T₁ᵀ`` of every level ``j``.

        Closed forms for k₁ = 1 and 2 (the common cases), batched Cholesky otherwise.
        """
        a = self._a11_packed
        if self._k1 == 1:
            lam2 = float(theta[0]) ** 2
            d = lam2 * a[0] + 1.0
            return float(np.log(d).sum()), lam2 / d
        if self._k1 == 2:
            # packed (00, 10, 11): D = T₁ᵀAT₁ + I and M = T₁D⁻¹T₁ᵀ with D⁻¹ = (d11, −d10, d00)/det
            t0, t1, t2 = theta[:3].tolist()
            d = np.array([[t0 * t0, 2 * t0 * t1, t1 * t1], [0.0, t0 * t2, t1 * t2], [0.0, 0.0, t2 * t2]]) @ a
            d += self._eye2
            det = d[0] * d[2] - d[1] * d[1]
            back = np.array([[0.0, 0.0, t0 * t0], [0.0, -t0 * t2, t0 * t1], [t2 * t2, -2 * t1 * t2, t1 * t1]])
            return float(np.log(det).sum()), ((back @ d) / det).ravel()
        t1 = self.engine_layout.factors(theta)[0]
        dmat = t1.T @ self.blocks.a11 @ t1 + np.eye(self._k1)
        chol = np.linalg.cholesky(dmat)
        half = t1 @ np.linalg.inv(chol).transpose(0, 2, 1)
        mats = half @ half.transpose(0, 2, 1)
        rows, cols = packed_pairs(self._k1)
        logdet = 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
        return logdet, np.ascontiguousarray(mats[:, rows, cols].T).ravel()

    def first_term_inverse(self, t1: np.ndarray) -> np.ndarray:
        """``Dⱼ⁻¹ = (T₁ᵀ(Z₁ᵀZ₁)ⱼT₁ + I)⁻¹`` of every level, shape (ℓ₁, k₁, k₁); closed form for k₁ ≤ 2."""
        k = t1.shape[0]
        a = self._a11_packed
        if k == 1:
            return (1.0 / (float(t1[0, 0]) ** 2 * a[0] + 1.0)).reshape(-1, 1, 1)
        if k == 2:
            # packed (00, 10, 11) of D = T₁ᵀAT₁ + I from the packed A, as in _first_term
            t0, t1_, t2 = float(t1[0, 0]), float(t1[1, 0]), float(t1[1, 1])
            d = np.array([[t0 * t0, 2 * t0 * t1_, t1_ * t1_], [0.0, t0 * t2, t1_ * t2], [0.0, 0.0, t2 * t2]]) @ a
            d += self._eye2
            det = d[0] * d[2] - d[1] * d[1]
            inv = np.empty((a.shape[1], 2, 2))
            inv[:, 0, 0], inv[:, 1, 1] = d[2] / det, d[0] / det
            inv[:, 0, 1] = inv[:, 1, 0] = -d[1] / det
            return inv
        return np.linalg.inv(t1.T @ self.blocks.a11 @ t1 + np.eye(k))

    # -- the rest block -------------------------------------------------------------------
    def _rest_block(self, theta: np.ndarray, packed: np.ndarray) -> np.ndarray:
        """``Λ_restᵀ (RᵀR − Σⱼ Vⱼ Mⱼ Vⱼᵀ) Λ_rest + I_q`` as a new C-ordered array.

        With scalar terms only, Λ_rest is diagonal: the scaling is done first and
        the update only touches the operator's cells.
        """
        schur = self._schur
        if schur.mode == "dense":
            if self._scalar_rest:
                lam = np.append(theta, 1.0)[self._lam_index]
                g = self.blocks.a22 * lam[:, None]
                g *= lam[None, :]
                with self.dense_threads():
                    schur.subtract_from(g, packed, lam)
            else:
                g = self.blocks.a22.copy()
                self._scale(g, theta)
                assert schur.wt is not None
                wt = schur.wt.copy()
                self._scale_columns(wt, theta)
                with self.dense_threads():
                    schur.subtract_from(g, packed, None, wt)
            g.reshape(-1)[self._diag_rest] += 1.0
            return g
        update = schur.apply(packed)
        if schur.every_cell:
            g = self.blocks.a22 - update.reshape(self.m, self.m)
            if self._segments:
                self._scale(g, theta)
        elif self._scalar_rest and self._segments:
            lam = np.append(theta, 1.0)[self._lam_index]
            g = self.blocks.a22 * lam[:, None]
            g *= lam[None, :]
            g.reshape(-1)[schur.cells] -= update * (lam[schur.cell_rows] * lam[schur.cell_cols])
        else:
            g = self.blocks.a22.copy()
            g.reshape(-1)[schur.cells] -= update
            if self._segments:
                self._scale(g, theta)
        g.reshape(-1)[self._diag_rest] += 1.0
        return g

    def _scale(self, g: np.ndarray, theta: np.ndarray) -> None:
        """In place: ``G ← Λ_restᵀ G Λ_rest`` (identity on the X and y rows)."""
        if self._scalar_rest:
            lam = np.append(theta, 1.0)[self._lam_index]
            g *= lam[:, None]
            g *= lam[None, :]
            return
        self._scale_columns(g, theta)
        m = self.m
        factors = self.engine_layout.factors(theta)
        for (at, nlev, k), t in zip(self._segments, factors[1:], strict=True):
            cols = slice(at, at + nlev * k)
            g[cols, :] = (t.T @ g[cols, :].reshape(nlev, k, m)).reshape(nlev * k, m)

    def _scale_columns(self, g: np.ndarray, theta: np.ndarray) -> None:
        """In place: ``G ← G Λ_rest`` for G of shape (r, m)."""
        r = g.shape[0]
        factors = self.engine_layout.factors(theta)
        for (at, nlev, k), t in zip(self._segments, factors[1:], strict=True):
            cols = slice(at, at + nlev * k)
            g[:, cols] = (g[:, cols].reshape(r, nlev, k) @ t).reshape(r, nlev * k)

    def _rest_factor(self, theta: np.ndarray) -> tuple[float, np.ndarray | None]:
        """First-term log-determinant and the lower Cholesky factor of the rest block.

        The factor is None when the rest block is not numerically positive definite.
        """
        logdet1, packed = self._first_term(theta)
        g = self._rest_block(theta, packed)
        # g is C-ordered: its transpose is Fortran-ordered, and the upper factor of gᵀ
        # is stored in g's lower triangle.
        with self.dense_threads():
            chol, info = lapack.dpotrf(g.T, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            return logdet1, None
        return logdet1, chol.T

    def _parts(self, logdet1: float, lr: np.ndarray) -> DevianceParts:
        diag = np.diagonal(lr)
        q = self.q_rest
        logdet_rest = 2.0 * float(np.log(diag[:q]).sum()) if q else 0.0
        logdet_x = 2.0 * float(np.log(diag[q : q + self.p]).sum()) if self.p else 0.0
        return DevianceParts(logdet1 + logdet_rest, logdet_x, float(diag[-1]) ** 2)

    def parts(self, theta: np.ndarray) -> DevianceParts | None:
        """The :class:`DevianceParts` at θ, or None when the factorisation fails."""
        logdet1, lr = self._rest_factor(self.engine_theta(np.asarray(theta, dtype=np.float64)))
        if lr is None:
            return None
        return self._parts(logdet1, lr)

    def __call__(self, theta: np.ndarray, reml: bool) -> float:
        """The criterion at θ (``inf`` when the factorisation fails)."""
        parts = self.parts(theta)
        if parts is None:
            return np.inf
        return criterion(parts, self.n, self.p, reml)

    # -- the solution at θ ----------------------------------------------------------------
    def factorize(self, theta: np.ndarray) -> tuple[float, np.ndarray, list[np.ndarray]]:
        """First-term log-determinant, the rest block's lower factor and the engine blocks' factors T.

        Only the lower triangle of the factor is meaningful (LAPACK leaves the rest).

        Raises
        ------
        numpy.linalg.LinAlgError
            When the penalised cross-product matrix is not numerically positive definite.
        """
        theta = self.engine_theta(np.asarray(theta, dtype=np.float64))
        logdet1, lr = self._rest_factor(theta)
        if lr is None:
            raise np.linalg.LinAlgError("the penalised cross-product matrix is not positive definite")
        return logdet1, lr, self.engine_layout.factors(theta)

    def conditional_modes(
        self, lr: np.ndarray, factors: list[np.ndarray], dinv: np.ndarray | None = None
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Spherical random effects u (per engine block, (ℓᵢ, kᵢ)) and β̂ from the factor of the rest block.

        ``dinv`` is :meth:`first_term_inverse` of the first factor, when the caller has it.
        """
        q, p = self.q_rest, self.p
        if self.m > 1:
            x_rest = _leading_solve(lr)
        else:  # no fixed effects and a single term: nothing but y in the rest block
            x_rest = np.zeros(0)
        # first term, level by level: Dⱼ u₁ⱼ = −T₁ᵀ (RᵀZ₁)ⱼᵀ Λ_rest [x_rest; −1]
        t1 = factors[0]
        k1, l1 = t1.shape[0], self.blocks.levels[0]
        weighted = np.concatenate([x_rest, [-1.0]])
        for (at, nlev, k), t in zip(self._segments, factors[1:], strict=True):
            weighted[at : at + nlev * k] = (weighted[at : at + nlev * k].reshape(nlev, k) @ t.T).ravel()
        proj = (self.a21.T @ weighted).reshape(l1, k1) @ t1
        if dinv is None:
            dinv = self.first_term_inverse(t1)
        u = [-np.einsum("jab,jb->ja", dinv, proj) if k1 > 2 else -(dinv * proj[:, None, :]).sum(axis=2)]
        for at, nlev, k in self._segments:
            u.append(x_rest[at : at + nlev * k].reshape(nlev, k))
        return u, x_rest[q : q + p]

    def solve(self, theta: np.ndarray, reml: bool) -> Solution:
        """β̂, σ̂, the conditional modes and the factor of X's block at θ."""
        theta = np.asarray(theta, dtype=np.float64)
        logdet1, lr, factors = self.factorize(theta)
        q, p = self.q_rest, self.p
        parts = self._parts(logdet1, lr)
        u, beta = self.conditional_modes(lr, factors)
        b = [ui @ t.T for ui, t in zip(u, factors, strict=True)]
        dof = self.n - p if reml else self.n
        sigma = float(np.sqrt(parts.pwrss / dof))
        objective = criterion(parts, self.n, p, reml)
        lx = np.tril(lr[q : q + p, q : q + p])
        return Solution(theta, objective, parts, sigma, beta, lx, self.split(u), self.split(b))

    def split(self, per_block: list[np.ndarray]) -> list[np.ndarray]:
        """Per-block arrays (ℓᵢ, kᵢ) split by columns into one array per formula term."""
        if self._embed is None:
            return per_block
        out = []
        for values, sizes in zip(per_block, self._members, strict=True):
            at = 0
            for k in sizes:
                out.append(values[:, at : at + k])
                at += k
        return out


def _embedding(members: tuple[tuple[int, ...], ...], engine: ThetaLayout) -> np.ndarray | None:
    """Positions of θ's elements in the engine's θ; None when every block is a single term."""
    if all(len(sizes) == 1 for sizes in members):
        return None
    out = []
    for sizes, offset in zip(members, engine.offsets, strict=True):
        total = sum(sizes)
        rows, cols = ThetaLayout.tril(total)
        position = np.full((total, total), -1, dtype=np.int64)
        position[rows, cols] = offset + np.arange(rows.size)
        at = 0
        for k in sizes:
            r, c = ThetaLayout.tril(k)
            out.append(position[at + r, at + c])
            at += k
    return np.concatenate(out)


def _leading_solve(lr: np.ndarray) -> np.ndarray:
    """``L₁₁⁻ᵀ ℓ`` for the factor ``L = [[L₁₁, 0], [ℓᵀ, r]]`` of the rest block (β̂ and u_rest).

    With ``U = Lᵀ`` (Fortran-ordered when ``lr`` comes from :meth:`ProfiledDeviance.factorize`),
    ``U z = r e_m`` gives ``z = (−L₁₁⁻ᵀ ℓ, 1)``: the whole factor is used, so nothing is copied.
    """
    upper = lr.T
    r = float(upper[-1, -1])
    if r != 0.0 and upper.flags.f_contiguous:
        rhs = np.zeros(upper.shape[0])
        rhs[-1] = r
        z, info = lapack.dtrtrs(upper, rhs, lower=0)
        if info == 0:
            return -z[:-1]
    x, info = lapack.dtrtrs(lr[:-1, :-1], lr[-1, :-1], lower=1, trans=1)
    if info != 0:
        raise np.linalg.LinAlgError("singular triangular factor")
    return x
