"""The first term's contribution to the rest block: ``Σⱼ Vⱼ Mⱼ Vⱼᵀ``.

With ``V = RᵀZ₁`` split by the levels ``j`` of the first term and
``Mⱼ = T₁ Dⱼ⁻¹ T₁ᵀ`` (``Dⱼ = T₁ᵀ(Z₁ᵀZ₁)ⱼT₁ + I``), eliminating the first term
from the penalised normal equations subtracts this ``m × m`` matrix from ``RᵀR``.
It is linear in the ``Mⱼ``. Three ways to compute it, chosen once from the sizes
(never from timings):

* ``"cells"``: few rest rows (nested designs: m = p + 1); one dense matrix maps the packed
  ``Mⱼ`` to every cell;
* ``"pairs"``: a sparse ``RᵀZ₁`` (InstEval: ~30 entries per level of 2,972): a fixed
  sparse operator built once from the non-zero pattern (the pairs of entries in each
  level's column, the pattern a blocked Cholesky would follow);
* ``"dense"``: a dense-ish ``RᵀZ₁`` (crossed factors with many rows per pair of levels,
  where the pairs would number hundreds of millions): ``W diag(M) Wᵀ`` by one BLAS
  call (``dsyrk``) on the dense ``W = RᵀZ₁``.

The choice compares the pairs' count with the dense product's flops (:data:`PAIR_COST`).

Packed layout: the lower triangle of the symmetric ``Mⱼ`` in the order of
:func:`packed_pairs`, entry-major: ``packed[e * ℓ₁ + j]``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from ..memory import require

__all__ = ["DENSE_OPERATOR_LIMIT", "PAIR_COST", "SchurOperator", "packed_pairs"]

#: Operators with at most this many entries (m² · ℓ₁ · k₁(k₁+1)/2, 8 bytes each) are stored dense,
#: every cell filled: one matrix-vector product per evaluation (nested slopes at 1M rows: 540,000).
DENSE_OPERATOR_LIMIT = 2_000_000
#: One pair of the sparse operator (a multiply-add through an index, bound by memory) costs about
#: as much as this many flops of a dense BLAS-3 product (measured: ~2 ns a pair, ~0.05 ns a flop).
PAIR_COST = 40.0
#: The sparse operator is never built with more pairs than this (12 bytes each).
MAX_PAIRS = 40_000_000
#: Pairs generated at once while building the operator (bounds memory).
_PAIR_CHUNK = 2_000_000


@lru_cache(maxsize=32)
def packed_pairs(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``a`` and columns ``b`` (a ≥ b) of the packed lower triangle of a k × k matrix."""
    rows, cols = np.tril_indices(k)
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


def _packed_index(k: int) -> np.ndarray:
    """``index[a, b]``: position of (a, b) or (b, a) in the packed layout."""
    rows, cols = packed_pairs(k)
    index = np.zeros((k, k), dtype=np.int64)
    index[rows, cols] = np.arange(rows.size)
    index[cols, rows] = np.arange(rows.size)
    return index


def unpack(packed: np.ndarray, k: int, nlevels: int) -> np.ndarray:
    """The symmetric per-level matrices, shape (ℓ, k, k), from the packed layout."""
    rows, cols = packed_pairs(k)
    mats = np.empty((nlevels, k, k))
    values = packed.reshape(rows.size, nlevels).T
    mats[:, rows, cols] = values
    mats[:, cols, rows] = values
    return mats


def _times_blocks(packed: np.ndarray, wt: np.ndarray, k: int, nlevels: int) -> np.ndarray:
    """``blockdiag(Mⱼ) Wᵀ`` for packed ``Mⱼ`` and ``Wᵀ`` of shape (ℓk, m): shape (ℓk, m).

    Written as k² scaled sums of rows (vectorised over levels), not as ℓ tiny matrix products.
    """
    m = wt.shape[1]
    index = _packed_index(k)
    mats = packed.reshape(k * (k + 1) // 2, nlevels)
    w3 = wt.reshape(nlevels, k, m)
    out = np.zeros((nlevels, k, m))
    for a in range(k):
        for b in range(k):
            out[:, a] += mats[index[a, b]][:, None] * w3[:, b]
    return out.reshape(nlevels * k, m)


def _pair_count(a21: sp.csc_array, k1: int, full: bool) -> int:
    """Entries of the sparse operator: pairs of entries within each level's columns."""
    if not a21.shape[1]:
        return 0
    counts = np.add.reduceat(np.diff(a21.indptr), np.arange(0, a21.shape[1], k1)).astype(np.float64)
    return int(np.sum(counts * counts) if full else np.sum(counts * (counts + 1) / 2))


class SchurOperator:
    """Maps packed ``M`` (k₁(k₁+1)/2 · ℓ₁,) to the non-zero cells of ``Σⱼ Vⱼ Mⱼ Vⱼᵀ``.

    Parameters
    ----------
    a21 : sparse array, shape (m, ℓ₁k₁)
    k1 : int
    full : bool
        Fill both triangles (needed when the rest block holds vector-valued terms);
        otherwise only cells of the lower triangle are produced.

    Attributes
    ----------
    cells : ndarray of int64
        Flat (C-order) indices into the m × m matrix of the cells the operator fills.
    every_cell : bool
        The operator fills every cell, in order (small problems).
    both_triangles : bool
        Cells of both triangles are filled (otherwise only the lower triangle).
    cell_rows, cell_cols : ndarray of int64
        Row and column of each cell.
    """

    def __init__(self, a21: sp.csc_array, k1: int, full: bool) -> None:
        m, q1 = a21.shape
        self.m = m
        self.k1 = k1
        l1 = q1 // k1
        self.nlevels = l1
        rows, cols = packed_pairs(k1)
        self.wt: np.ndarray | None = None
        if m * m * rows.size * l1 <= DENSE_OPERATOR_LIMIT:
            # small: every cell, computed directly from the dense a21
            v = np.asarray(a21.toarray()).reshape(m, l1, k1)
            outer = np.einsum("rja,sjb->rsabj", v, v)
            op = outer[:, :, rows, cols, :] + np.where(rows != cols, 1.0, 0.0)[None, None, :, None] * outer[
                :, :, cols, rows, :
            ]
            self._op: np.ndarray | sp.sparray | None = op.reshape(m * m, rows.size * l1)
            self.mode = "cells"
            self.cells = np.arange(m * m)
            self.every_cell = True
            self.both_triangles = True
        else:
            pairs = _pair_count(a21, k1, full)
            flops = m * m * l1 * k1 * (0.5 if k1 == 1 else 1.0)
            if PAIR_COST * pairs <= flops and pairs <= MAX_PAIRS:
                self.mode = "pairs"
                self.cells, self._op = _pair_operator(a21, k1, full)
                self.every_cell = False
                self.both_triangles = full
            else:
                self.mode = "dense"
                self._op = None
                require(24.0 * m * q1 + 16.0 * m * m,
                        f"the dense {m:,} × {q1:,} crossed block of the largest term and the other columns")
                self.wt = np.ascontiguousarray(a21.T.toarray())  # (ℓ₁k₁, m): Wᵀ, C-ordered
                self.cells = np.arange(m * m)
                self.every_cell = True
                self.both_triangles = True
        self.cell_rows, self.cell_cols = np.divmod(self.cells, m)

    def apply(self, packed: np.ndarray) -> np.ndarray:
        """Values at :attr:`cells` for the packed per-level matrices."""
        if self.wt is not None:
            mw = _times_blocks(packed, self.wt, self.k1, self.nlevels)
            return (self.wt.T @ mw).ravel()
        assert self._op is not None
        return self._op @ packed

    def adjoint(self, values: np.ndarray) -> np.ndarray:
        """Packed ``Vⱼᵀ Q Vⱼ`` of every level, scaled by 2 off the diagonal, for a symmetric ``Q``.

        ``values`` holds ``Q`` at :attr:`cells`. This is the transpose of :meth:`apply`:
        entry (e = (a, b), j) of the result is ``tr(Q Vⱼ Eₑ Vⱼᵀ)`` with ``Eₑ = E_ab + E_ba``
        (``E_aa`` on the diagonal).
        """
        if self.wt is not None:
            q = values.reshape(self.m, self.m)
            k, nlev = self.k1, self.nlevels
            wt = self.wt.reshape(nlev, k, self.m)
            qv = (self.wt @ q).reshape(nlev, k, self.m)
            rows, cols = packed_pairs(k)
            out = np.empty((rows.size, nlev))
            for e, (a, b) in enumerate(zip(rows, cols, strict=True)):
                out[e] = np.einsum("jr,jr->j", wt[:, a], qv[:, b]) * (1.0 if a == b else 2.0)
            return out.ravel()
        if not self.both_triangles:
            values = values * np.where(self.cell_rows == self.cell_cols, 1.0, 2.0)
        assert self._op is not None
        return self._op.T @ values

    def subtract_from(
        self, g: np.ndarray, packed: np.ndarray, row_scale: np.ndarray | None, wt: np.ndarray | None = None
    ) -> None:
        """In place, dense mode only: the lower triangle of the C-ordered ``g`` loses
        ``Σⱼ (S Vⱼ) Mⱼ (S Vⱼ)ᵀ`` with ``S = diag(row_scale)`` (identity when None).

        ``wt`` replaces :attr:`wt` (``Vᵀ``, shape (ℓ₁k₁, m)) when the caller transformed its rows.
        One ``dsyrk`` for k₁ = 1 (``Mⱼ ≥ 0`` are scalars); one ``dgemm`` otherwise.
        """
        from scipy.linalg.blas import dgemm, dsyrk

        wt = self.wt if wt is None else wt
        assert wt is not None
        k, nlev = self.k1, self.nlevels
        if k == 1:
            half = np.sqrt(np.maximum(packed, 0.0))
            w = wt * half[:, None]
            if row_scale is not None:
                w *= row_scale[None, :]
            # in Fortran terms gᵀ is m × m and w.T is m × ℓ₁ (both Fortran-ordered views)
            out = dsyrk(-1.0, w.T, beta=1.0, c=g.T, trans=0, lower=0, overwrite_c=1)
        else:
            w = wt if row_scale is None else wt * row_scale[None, :]
            mw = _times_blocks(packed, w, k, nlev)
            out = dgemm(-1.0, w.T, mw.T, beta=1.0, c=g.T, trans_b=1, overwrite_c=1)
        if not np.shares_memory(out, g):  # pragma: no cover - f2py returned a copy
            g[...] = out.T

def _pair_operator(a21: sp.csc_array, k1: int, full: bool) -> tuple[np.ndarray, sp.csr_array]:
    """The cells filled and the sparse (cells, ℓ₁k₁(k₁+1)/2) operator of :class:`SchurOperator`."""
    m, q1 = a21.shape
    l1 = q1 // k1
    coo = a21.tocoo()
    level = (coo.col // k1).astype(np.int64)
    order = np.lexsort((coo.row, level))
    rows = coo.row[order].astype(np.int64)
    level = level[order]
    within = (coo.col[order] % k1).astype(np.int64)
    vals = coo.data[order]
    counts = np.bincount(level, minlength=l1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # entries are sorted by (level, row): the partners of an entry with rows not above its
    # own (lower triangle) run from its level's start to the last entry of its row, or all
    # entries of its level (full)
    if full:
        per_entry = counts[level]
    else:
        key = level * m + rows
        per_entry = np.searchsorted(key, key, side="right") - starts[level]
    require(48.0 * float(np.sum(per_entry)) + 9.0 * m * m,
            f"eliminating the {l1:,} levels of the largest term against the {m:,} other columns "
            f"(the {l1:,} × {m:,} crossed block)")
    packed = _packed_index(k1)
    bounds = np.concatenate([[0], np.cumsum(per_entry)])
    cells, cols, values = [], [], []
    first = 0
    while first < rows.size:
        last = int(np.searchsorted(bounds, bounds[first] + _PAIR_CHUNK, side="right")) - 1
        last = min(max(last, first + 1), rows.size)
        e1 = np.repeat(np.arange(first, last), per_entry[first:last])
        offset = np.arange(e1.size) + bounds[first] - bounds[e1]
        e2 = starts[level[e1]] + offset
        cells.append(rows[e1] * m + rows[e2])
        cols.append(packed[within[e1], within[e2]] * l1 + level[e1])
        values.append(vals[e1] * vals[e2])
        first = last
    npk = k1 * (k1 + 1) // 2
    cell = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
    # number the filled cells compactly (a mark array over m² avoids sorting the pairs)
    mark = np.zeros(m * m, dtype=bool)
    mark[cell] = True
    filled = np.flatnonzero(mark)
    number = np.cumsum(mark) - 1
    if k1 == 1:
        # pairs were generated level by level with increasing cells: already the CSC layout
        column = np.concatenate(cols)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(column, minlength=l1))])
        return filled, sp.csc_array((np.concatenate(values), number[cell], indptr), shape=(filled.size, l1))
    op = sp.csr_array(
        (np.concatenate(values) if values else np.zeros(0), (number[cell], np.concatenate(cols) if cols else cell)),
        shape=(filled.size, npk * l1),
    )
    return filled, op
