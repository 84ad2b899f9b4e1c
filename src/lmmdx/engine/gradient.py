"""The gradient of the profiled criterion with respect to θ, in closed form.

With ``Ω = ΛᵀZᵀZΛ + I`` (ML) or the same matrix bordered by X (REML), ν = n or
n − p, and r² the penalised residual sum of squares, the criterion is
``log|Ω| + ν log r² + const``. For the element (a, b) of term i's factor Tᵢ:

* ``∂ log|Ω| = 2 [(ℓᵢ I − C̄ᵢ) Tᵢ⁻¹]_{ba}``, where ``C̄ᵢ`` is the sum over the
  levels of term i of the diagonal blocks of ``Ω⁻¹`` (because ``ΛᵀZᵀZΛ = Ω − I``);
* ``∂ r² = −2 [(Zᵢᵀ res)ᵀ uᵢ]_{ab}`` by the envelope theorem, with
  ``res = y − Xβ̂ − ZΛu`` at the conditional optimum.

The diagonal blocks of Ω⁻¹ come from the blocked factor: for the rest block from
the inverse of its dense factor, for the first term level by level as
``Dⱼ⁻¹ + Dⱼ⁻¹ T₁ᵀ (Vⱼᵀ Q Vⱼ) T₁ Dⱼ⁻¹`` with ``Q = Λ_R S_R⁻¹ Λ_Rᵀ``, where the
sum over the non-zero pattern is the adjoint of the Schur operator. Terms whose
factor is singular (a boundary) get their components by finite differences;
a scalar term at exactly 0 has gradient 0 (the criterion is even in λ).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from scipy.linalg import lapack

from .deviance import ProfiledDeviance, criterion
from .schur import packed_pairs

__all__ = ["value_and_gradient"]

#: Below this a diagonal element of Tᵢ makes Tᵢ numerically singular for the closed form.
_SINGULAR_DIAGONAL = 1e-8
#: Central-difference step (with Richardson extrapolation) for the components of singular terms.
_FD_STEP = 1e-3


class _RestInverse:
    """Entries of ``S_R⁻¹``, the inverse of the leading ``nr × nr`` block of the rest block.

    The factor ``U = Lᵀ`` (Fortran-ordered, destroyed) is inverted in place into ``S⁻¹`` of the
    whole rest block; its leading block is ``S_R⁻¹ + W Wᵀ`` with ``W = −U₁₁⁻¹ U₁₂ U₂₂⁻¹``
    (the trailing rows are y, and X for ML), so entries are corrected by a small rank.
    """

    def __init__(self, lr: np.ndarray, nr: int, dense_threads: Callable[[], AbstractContextManager[Any]]) -> None:
        upper = lr.T
        m = upper.shape[0]
        self.failed = False
        y_small, info = lapack.dtrtrs(np.array(upper[nr:, nr:]), np.array(upper[:nr, nr:]).T, lower=0, trans=1)
        rhs = np.zeros((m, m - nr), order="F")
        rhs[:nr] = y_small.T
        if upper.flags.f_contiguous:
            w, info2 = lapack.dtrtrs(upper, rhs, lower=0)
            with dense_threads():
                inv, info3 = lapack.dpotri(upper, lower=0, overwrite_c=1)
        else:  # pragma: no cover - factorize always returns a Fortran-ordered factor
            w, info2 = lapack.dtrtrs(np.asfortranarray(upper), rhs, lower=0)
            inv, info3 = lapack.dpotri(np.asfortranarray(upper), lower=0)
        if info or info2 or info3:
            self.failed = True
            return
        self._w = w[:nr]
        self._lower = inv.T  # S⁻¹ in the lower triangle
        self.nr = nr

    def entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``S_R⁻¹[rows, cols]`` (any triangle)."""
        low, high = np.maximum(rows, cols), np.minimum(rows, cols)
        return self._lower[low, high] - np.einsum("ij,ij->i", self._w[low], self._w[high])

    def dense(self) -> np.ndarray:
        """The whole ``S_R⁻¹`` (symmetric)."""
        lower = np.tril(self._lower[: self.nr, : self.nr])
        return lower + np.tril(lower, -1).T - self._w @ self._w.T

    def sum_diagonal_blocks(self, at: int, nlev: int, k: int) -> np.ndarray:
        """Σ over levels of the k × k diagonal blocks of ``S_R⁻¹`` on a term's rows."""
        index = at + np.arange(nlev) * k
        out = np.empty((k, k))
        for a in range(k):
            for b in range(a + 1):
                out[a, b] = out[b, a] = self.entries(index + a, index + b).sum()
        return out


def _inverse_parts(
    dev: ProfiledDeviance, lr: np.ndarray, nr: int, full_theta: np.ndarray, factors: list[np.ndarray]
) -> tuple[np.ndarray | None, list[np.ndarray]]:
    """``Gⱼ = Vⱼᵀ Q Vⱼ`` of every level (ℓ₁, k₁, k₁) with ``Q = Λ_R S_R⁻¹ Λ_Rᵀ``, and the sums of
    the diagonal blocks of ``S_R⁻¹`` over each rest term's levels, from the whole inverse
    (the cells and pairs ways); None when it fails."""
    schur, segments = dev._schur, dev._segments
    k1, l1 = dev.blocks.sizes[0], dev.blocks.levels[0]
    cell_values = np.zeros(schur.cells.size)
    inverse = _RestInverse(lr, nr, dev.dense_threads) if nr else None
    if inverse is not None:
        if inverse.failed:
            return None, []
        if schur.every_cell:  # Q = Λ_R S_R⁻¹ Λ_Rᵀ as a whole matrix
            full = inverse.dense()
            if dev._scalar_rest:
                lam = np.append(full_theta, 1.0)[dev._lam_index][:nr]
                full *= lam[:, None]
                full *= lam[None, :]
            else:
                _sandwich(full, segments, factors[1:])
            q_matrix = cell_values.reshape(dev.m, dev.m)
            q_matrix[:nr, :nr] = full
        else:
            inside = (schur.cell_rows < nr) & (schur.cell_cols < nr)
            rows_in, cols_in = schur.cell_rows[inside], schur.cell_cols[inside]
            if dev._scalar_rest:
                lam = np.append(full_theta, 1.0)[dev._lam_index]
                cell_values[inside] = inverse.entries(rows_in, cols_in) * lam[rows_in] * lam[cols_in]
            else:
                full = inverse.dense()
                _sandwich(full, segments, factors[1:])
                cell_values[inside] = full[rows_in, cols_in]
    rows, cols = packed_pairs(k1)
    with dev.dense_threads():
        adjoint = schur.adjoint(cell_values)
    g_packed = adjoint.reshape(rows.size, l1) / np.where(rows == cols, 1.0, 2.0)[:, None]
    g = np.zeros((l1, k1, k1))
    g[:, rows, cols] = g_packed.T
    g[:, cols, rows] = g_packed.T
    rest = []
    for at, nlev, k in segments:
        assert inverse is not None  # segments lie inside the rest block, so nr > 0
        rest.append(inverse.sum_diagonal_blocks(at, nlev, k))
    return g, rest


def _dense_inverse_parts(
    dev: ProfiledDeviance, lr: np.ndarray, nr: int, full_theta: np.ndarray, factors: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """As :func:`_inverse_parts` for the dense way, and for a single block (X's rows of ``RᵀZ₁``):
    ``L_R⁻¹`` (``dtrtri``) and ``L_R⁻¹W̃`` (``dtrmm``).

    ``S_R = L_R L_Rᵀ`` is the leading block of the factored rest block, so ``S_R⁻¹ = L_R⁻ᵀL_R⁻¹``
    and the diagonal blocks of ``S_R⁻¹`` are products of columns of ``L_R⁻¹``.
    """
    from scipy.linalg.blas import dtrmm

    schur, segments = dev._schur, dev._segments
    k1, l1 = dev.blocks.sizes[0], dev.blocks.levels[0]
    # the upper factor U_R = L_Rᵀ, Fortran-ordered; U_R⁻¹ = L_R⁻ᵀ (lr's other triangle is garbage)
    uinv, info = lapack.dtrtri(np.array(lr[:nr, :nr].T, order="F"), lower=0)
    if info != 0:
        return None
    if segments:  # their rows of U_R⁻¹ are read below (dtrmm reads the upper triangle only)
        uinv = np.triu(uinv)
    if schur.wt is None:  # a single block: the leading rows are X's, not scaled by Λ
        assert dev.lead_t is not None
        wt = dev.lead_t[:, :nr]
    elif dev._scalar_rest:
        lam = np.append(full_theta, 1.0)[dev._lam_index][:nr]
        wt = schur.wt[:, :nr] * lam[None, :]
    else:
        wt = schur.wt.copy()
        dev._scale_columns(wt, full_theta)
        wt = wt[:, :nr]
    # Y = L_R⁻¹ W̃ = U_R⁻ᵀ W̃, with W̃ = wtᵀ (nr × ℓ₁k₁, Fortran-ordered view of the C-ordered wt)
    y = dtrmm(1.0, uinv, np.array(wt.T, order="F"), side=0, lower=0, trans_a=1, overwrite_b=1)
    y3 = y.T.reshape(l1, k1, nr)  # (ℓ₁, k₁, nr): the columns of Y of each level
    g = np.einsum("jar,jbr->jab", y3, y3) if k1 > 1 else np.einsum("jar,jar->j", y3, y3).reshape(l1, 1, 1)
    rest = []
    for at, nlev, k in segments:
        rows = uinv[at : at + nlev * k].reshape(nlev, k, nr)  # rows of U_R⁻¹ = columns of L_R⁻¹
        rest.append(np.einsum("jar,jbr->ab", rows, rows))
    return g, rest


def _triangular_inverse(t: np.ndarray) -> np.ndarray:
    """Inverse of a lower-triangular factor with a non-zero diagonal (closed form up to 2 × 2)."""
    if t.shape[0] == 1:
        return 1.0 / t
    if t.shape[0] == 2:
        a, b, c = t[0, 0], t[1, 0], t[1, 1]
        return np.array([[1.0 / a, 0.0], [-b / (a * c), 1.0 / c]])
    return lapack.dtrtri(t, lower=1)[0]


def _sandwich(matrix: np.ndarray, segments: list[tuple[int, int, int]], factors: list[np.ndarray]) -> None:
    """In place: ``M ← Λ_R M Λ_Rᵀ`` with Λ_R block diagonal (``I ⊗ Tᵢ`` per segment, identity elsewhere)."""
    m = matrix.shape[0]
    for (at, nlev, k), t in zip(segments, factors, strict=True):
        cols = slice(at, at + nlev * k)
        if k == 1:
            matrix[:, cols] *= t[0, 0]
            matrix[cols, :] *= t[0, 0]
            continue
        matrix[:, cols] = (matrix[:, cols].reshape(m, nlev, k) @ t.T).reshape(m, nlev * k)
        matrix[cols, :] = (t @ matrix[cols, :].reshape(nlev, k, m)).reshape(nlev * k, m)


def value_and_gradient(dev: ProfiledDeviance, theta: np.ndarray, reml: bool) -> tuple[float, np.ndarray]:
    """The criterion at θ and its gradient (``inf`` and NaNs when the factorisation fails)."""
    theta = np.asarray(theta, dtype=np.float64)
    try:
        logdet1, lr, factors = dev.factorize(theta)
    except np.linalg.LinAlgError:
        return np.inf, np.full(theta.size, np.nan)
    full_theta = dev.engine_theta(theta)
    n, p, q = dev.n, dev.p, dev.q_rest
    parts = dev._parts(logdet1, lr)
    value = criterion(parts, n, p, reml)
    dinv = dev.first_term_inverse(factors[0])
    u, beta = dev.conditional_modes(lr, factors, dinv)
    blocks = dev.blocks
    t1 = factors[0]
    segments = dev._segments

    # Ω⁻¹ on the rest block (random effects, and X for REML): S_R⁻¹, the inverse of the leading
    # nr × nr block of the factored rest block
    nr = q + p if reml else q
    schur = dev._schur
    if nr and (schur.mode == "dense" or dev.lead_t is not None):
        # Gⱼ = W̃ⱼᵀ S_R⁻¹ W̃ⱼ = (L_R⁻¹W̃ⱼ)ᵀ(L_R⁻¹W̃ⱼ) with W̃ = Λ_RᵀRᵀZ₁: one triangular inverse
        # and one triangular product instead of the whole inverse and a dense product
        with dev.dense_threads():
            dense = _dense_inverse_parts(dev, lr, nr, full_theta, factors)
        if dense is None:
            return value, np.full(theta.size, np.nan)
        g, rest_blocks = dense
    else:
        parts_or_none, rest_blocks = _inverse_parts(dev, lr, nr, full_theta, factors)
        if parts_or_none is None:
            return value, np.full(theta.size, np.nan)
        g = parts_or_none
    half = t1 @ dinv  # Tⱼ = T₁ Dⱼ⁻¹: Dⱼ⁻¹ T₁ᵀ Gⱼ T₁ Dⱼ⁻¹ = Tⱼᵀ Gⱼ Tⱼ
    c_bar = [dinv.sum(axis=0) + (half.transpose(0, 2, 1) @ g @ half).sum(axis=0), *rest_blocks]

    # Zᵀ res per term, from the blocks: Zᵀ(y − Xβ) − ZᵀZ b
    b = [ui @ t.T for ui, t in zip(u, factors, strict=True)]
    b_rest = np.concatenate([bi.ravel() for bi in b[1:]]) if segments else np.zeros(0)
    coef = np.concatenate([-beta, [1.0]])
    a21 = dev.a21
    zres1 = a21[q:].T @ coef - np.einsum("jab,jb->ja", blocks.a11, b[0]).ravel()
    zres = [zres1 - (a21[:q].T @ b_rest if q else 0.0)]
    if q:
        zres_rest = blocks.a22[:q, q:] @ coef - blocks.a22[:q, :q] @ b_rest - a21[:q] @ b[0].ravel()
        for at, nlev, k in segments:
            zres.append(zres_rest[at : at + nlev * k])

    # per formula term (a member of an engine block: its rows and columns of the block's factor)
    nu = n - p if reml else n
    grad = np.empty(theta.size)
    singular_terms = []
    offsets = iter(dev.layout.offsets)
    for i, (t_block, cb_block, zr, ui) in enumerate(zip(factors, c_bar, zres, u, strict=True)):
        nlev = blocks.levels[i]
        kb = t_block.shape[0]
        d_pwrss_block = -2.0 * (zr.reshape(nlev, kb).T @ ui)
        at = 0
        for k in dev._members[i]:
            offset = next(offsets)
            span = slice(at, at + k)
            at += k
            t = t_block[span, span]
            trows, tcols = dev.layout.tril(k)
            size = trows.size
            if min(abs(t[j, j]) for j in range(k)) < _SINGULAR_DIAGONAL:
                if k == 1:
                    grad[offset] = 0.0
                else:
                    singular_terms.append((offset, size))
                continue
            tinv = _triangular_inverse(t)
            d_logdet = 2.0 * ((nlev * np.eye(k) - cb_block[span, span]) @ tinv)
            total = d_logdet.T + nu / parts.pwrss * d_pwrss_block[span, span]
            grad[offset : offset + size] = total[trows, tcols]
    for offset, size in singular_terms:
        for e in range(offset, offset + size):
            grad[e] = _richardson(dev, theta, e, reml)
    return value, grad


def _central(dev: ProfiledDeviance, theta: np.ndarray, e: int, h: float, reml: bool) -> float:
    up, down = theta.copy(), theta.copy()
    up[e] += h
    down[e] -= h  # a negative diagonal is another factor of the same covariance: defined
    return (dev(up, reml) - dev(down, reml)) / (2.0 * h)


def _richardson(dev: ProfiledDeviance, theta: np.ndarray, e: int, reml: bool) -> float:
    """Central differences at h and h/2 combined to cancel the h² error."""
    h = _FD_STEP * max(1.0, abs(theta[e]))
    return (4.0 * _central(dev, theta, e, h / 2, reml) - _central(dev, theta, e, h, reml)) / 3.0
