"""The one pass over the rows: model matrices → cross-product blocks.

Everything the optimisation over θ needs is in :class:`Blocks`; the rows are not
visited again. The blocks are sums over rows, so blocks computed on chunks of
rows (with the same level sets) add up to those of the whole data.

Every block is a grouped sum over the rows, computed with ``np.bincount`` on the
integer codes (no sorting, no Python loop over rows or levels): per level of a
term, and per pair of levels of two terms (the key ``codeᵢ · ℓₖ + codeₖ``), which
gives the off-diagonal blocks of crossed factors in O(n). Only a pair block too
large to hold densely is summed after sorting its keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["Blocks", "TermData", "cross_products", "cross_products_bytes"]

#: A pair block of two factors with at most this many cells (ℓᵢ ℓₖ) is summed densely by bincount;
#: larger ones (factors with very many levels each) by sorting their row keys.
_DENSE_PAIR_CELLS = 1 << 25


@dataclass(frozen=True, slots=True)
class TermData:
    """The Z block of one random-effects term as arrays.

    Attributes
    ----------
    codes : ndarray of int, shape (n,)
        Level of each row.
    values : ndarray of float64, shape (n, k)
        The term's left-hand-side columns.
    nlevels : int
    members : tuple of int
        The sizes of the formula's terms this one is made of (terms on the same grouping
        factor are one block with a block-diagonal factor); ``(k,)`` for a single term.
    """

    codes: np.ndarray
    values: np.ndarray
    nlevels: int
    members: tuple[int, ...] = field(default=())

    @property
    def sizes(self) -> tuple[int, ...]:
        """The member sizes, ``(k,)`` when the term was not made of several."""
        return self.members or (int(self.values.shape[1]),)


@dataclass(frozen=True, slots=True)
class Blocks:
    """Cross-products of ``[Z₁, R]`` where ``R = [Z₂ … Z_T, X, y]`` ("the rest").

    The first term (the one with most levels) has a block-diagonal ``Z₁ᵀZ₁``.

    Attributes
    ----------
    n : int
        Number of observations.
    p : int
        Number of fixed-effects columns.
    levels, sizes : tuple of int
        Levels ``ℓᵢ`` and columns ``kᵢ`` of each term, in engine order.
    a11 : ndarray, shape (ℓ₁, k₁, k₁)
        Diagonal blocks of ``Z₁ᵀZ₁``.
    a21 : scipy.sparse.csc_array, shape (m, ℓ₁k₁)
        ``RᵀZ₁``, with ``m = Σ_{i≥2} ℓᵢkᵢ + p + 1``.
    a22 : ndarray, shape (m, m)
        ``RᵀR`` (symmetric, both triangles filled).
    members : tuple of tuple of int
        For each term, the sizes of the formula terms it is made of (see :class:`TermData`).
    """

    n: int
    p: int
    levels: tuple[int, ...]
    sizes: tuple[int, ...]
    a11: np.ndarray
    a21: sp.csc_array
    a22: np.ndarray
    members: tuple[tuple[int, ...], ...] = ()

    @property
    def m(self) -> int:
        """Order of the rest block."""
        return int(self.a22.shape[0])

    @property
    def q_rest(self) -> int:
        """Number of random effects outside the first term."""
        return self.m - self.p - 1

    @property
    def term_members(self) -> tuple[tuple[int, ...], ...]:
        """:attr:`members`, with ``(kᵢ,)`` for every term when none were given."""
        return self.members or tuple((k,) for k in self.sizes)


def _level_sums(codes: np.ndarray, nlevels: int, weights: np.ndarray | None) -> np.ndarray:
    """``Σ weights`` over the rows of each level (counts when ``weights`` is None), shape (nlevels,)."""
    return np.bincount(codes, weights=weights, minlength=nlevels).astype(np.float64, copy=False)


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a * b


def _term_by_dense(term: TermData, dense: np.ndarray) -> np.ndarray:
    """``Zᵀ D`` for the columns D (n, d): shape (ℓk, d), rows level-major."""
    k, nlev = term.values.shape[1], term.nlevels
    out = np.empty((nlev, k, dense.shape[1]))
    for a in range(k):
        v = term.values[:, a]
        for c in range(dense.shape[1]):
            out[:, a, c] = _level_sums(term.codes, nlev, _product(v, dense[:, c]))
    return out.reshape(nlev * k, dense.shape[1])


def _diagonal_blocks(term: TermData) -> np.ndarray:
    """Per level ``Σ v vᵀ``: shape (ℓ, k, k)."""
    k, nlev = term.values.shape[1], term.nlevels
    out = np.empty((nlev, k, k))
    for a in range(k):
        for b in range(a + 1):
            out[:, a, b] = out[:, b, a] = _level_sums(term.codes, nlev, _product(term.values[:, a], term.values[:, b]))
    return out


def _pair_sums(left: TermData, right: TermData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The observed level pairs of two terms and ``Σ v_a w_b`` over their rows.

    Returns the left and right levels of each observed pair, shape (c,) each, and the sums,
    shape (c, kₗ, kᵣ).
    """
    kl, kr = left.values.shape[1], right.values.shape[1]
    lr = right.nlevels
    key = left.codes * lr + right.codes
    cells = left.nlevels * lr
    if cells <= _DENSE_PAIR_CELLS:
        counts = np.bincount(key, minlength=cells)
        observed = np.flatnonzero(counts)
        index = None
    else:
        observed, index = np.unique(key, return_inverse=True)
        cells = observed.size
    sums = np.empty((observed.size, kl, kr))
    for a in range(kl):
        for b in range(kr):
            weights = _product(left.values[:, a], right.values[:, b])
            if index is None:
                sums[:, a, b] = np.bincount(key, weights=weights, minlength=cells)[observed]
            else:
                sums[:, a, b] = np.bincount(index, weights=weights, minlength=cells)
    rows, cols = np.divmod(observed, lr)
    return rows, cols, sums


def _dense_csc(matrix: np.ndarray) -> sp.csc_array:
    """A dense (r, c) matrix as CSC with every entry stored (built from its parts, not searched)."""
    r, c = matrix.shape
    indptr = np.arange(0, r * c + 1, r, dtype=np.int64)
    return sp.csc_array((matrix.T.ravel(), np.tile(np.arange(r, dtype=np.int64), c), indptr), shape=(r, c))


def cross_products_bytes(n: int, p: int, sizes: Sequence[int], levels: Sequence[int]) -> float:
    """Peak memory of :func:`cross_products` (and of the scaled copies it is given), in bytes.

    An upper estimate from the arrays allocated below: the scaled copies of X and of each
    term's columns with the dense ``[X y]``; per grouped sum one n-vector of products, the
    pair keys and their weights; the dense pair blocks (at most ``ℓᵢℓₖ`` counts); the
    sparse ``RᵀZ₁`` (its entries, at most n per rest term plus the dense rows) and the
    dense ``m × m`` rest block (with the copy and factor an evaluation makes of it).

    Parameters
    ----------
    n, p : int
        Rows and fixed-effects columns.
    sizes, levels : sequence of int
        Columns ``kᵢ`` and levels ``ℓᵢ`` of each term, engine order (most levels first).
    """
    rows = 8.0 * n * (2 * (p + 1) + 2 * sum(sizes) + 4)
    pairs = sum(min(a * b, _DENSE_PAIR_CELLS) for i, a in enumerate(levels) for b in levels[i + 1 :])
    k1 = sizes[0] if sizes else 0
    rest = sum(k * l for k, l in zip(sizes[1:], levels[1:], strict=True))
    m = rest + p + 1
    a21 = 24.0 * n * k1 * (sum(sizes[1:]) + p + 1)  # at most one entry per row and column pair
    return rows + 16.0 * pairs + a21 + 24.0 * m * m  # the rest block, its scaled copy, its factor


def cross_products(y: np.ndarray, X: np.ndarray, terms: Sequence[TermData]) -> Blocks:
    """Compute the :class:`Blocks` of a model in one pass over its rows.

    Parameters
    ----------
    y : ndarray, shape (n,)
    X : ndarray, shape (n, p)
    terms : sequence of TermData
        Random-effects terms, the first with the most levels.
    """
    n, p = X.shape
    first = terms[0]
    k1, l1 = first.values.shape[1], first.nlevels
    dense = np.column_stack([X, y])
    a11 = _diagonal_blocks(first)
    dense_rows = _term_by_dense(first, dense).T  # (p + 1, ℓ₁k₁)
    top = dense.T @ dense
    members = tuple(t.sizes for t in terms)
    if len(terms) == 1:
        return Blocks(n, p, (l1,), (k1,), a11, _dense_csc(dense_rows), np.ascontiguousarray(top), members)
    rest = terms[1:]
    sizes = [t.values.shape[1] * t.nlevels for t in rest]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    q = int(starts[-1])
    m = q + p + 1
    a22 = np.zeros((m, m))
    a22[q:, q:] = top
    a21_rows, a21_cols, a21_vals = [], [], []
    for i, term in enumerate(rest):
        k, at = term.values.shape[1], int(starts[i])
        span = slice(at, at + term.nlevels * k)
        diag = _diagonal_blocks(term)
        index = at + np.arange(term.nlevels)[:, None] * k + np.arange(k)[None, :]
        a22[index[:, :, None], index[:, None, :]] = diag
        zd = _term_by_dense(term, dense)
        a22[span, q:] = zd
        a22[q:, span] = zd.T
        for j in range(i + 1, len(rest)):
            other, kk, at2 = rest[j], rest[j].values.shape[1], int(starts[j])
            rows, cols, sums = _pair_sums(term, other)
            r = at + rows[:, None, None] * k + np.arange(k)[None, :, None]
            c = at2 + cols[:, None, None] * kk + np.arange(kk)[None, None, :]
            a22[r, c] = sums
            a22[c, r] = sums
        rows, cols, sums = _pair_sums(term, first)
        r = at + rows[:, None, None] * k + np.arange(k)[None, :, None]
        c = cols[:, None, None] * k1 + np.arange(k1)[None, None, :]
        a21_rows.append(np.broadcast_to(r, sums.shape).ravel())
        a21_cols.append(np.broadcast_to(c, sums.shape).ravel())
        a21_vals.append(sums.ravel())
    dense_index = np.arange(p + 1, dtype=np.int64)
    a21_rows.append(np.repeat(q + dense_index, l1 * k1))
    a21_cols.append(np.tile(np.arange(l1 * k1, dtype=np.int64), p + 1))
    a21_vals.append(dense_rows.ravel())
    a21 = sp.csc_array(
        (np.concatenate(a21_vals), (np.concatenate(a21_rows), np.concatenate(a21_cols))), shape=(m, l1 * k1)
    )
    return Blocks(
        n=n,
        p=p,
        levels=tuple(t.nlevels for t in terms),
        sizes=tuple(t.values.shape[1] for t in terms),
        a11=a11,
        a21=a21,
        a22=a22,
        members=members,
    )
