"""The one pass over the rows: model matrices → cross-product blocks.

Everything the optimisation over θ needs is in :class:`Blocks`; the rows are not
visited again. The blocks are sums over rows, so blocks computed on chunks of
rows (with the same level sets) add up to those of the whole data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Blocks", "TermData", "cross_products", "cross_products_bytes"]


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
    """

    codes: np.ndarray
    values: np.ndarray
    nlevels: int


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
    """

    n: int
    p: int
    levels: tuple[int, ...]
    sizes: tuple[int, ...]
    a11: np.ndarray
    a21: sp.csc_array
    a22: np.ndarray

    @property
    def m(self) -> int:
        """Order of the rest block."""
        return int(self.a22.shape[0])

    @property
    def q_rest(self) -> int:
        """Number of random effects outside the first term."""
        return self.m - self.p - 1


def _z_matrix(term: TermData, n: int) -> sp.csr_array:
    k = term.values.shape[1]
    cols = (term.codes[:, None] * k + np.arange(k)[None, :]).ravel()
    rows = np.repeat(np.arange(n), k)
    return sp.csr_array((term.values.ravel(), (rows, cols)), shape=(n, term.nlevels * k))


def _sum_by_level(codes: np.ndarray, values: np.ndarray, nlevels: int) -> np.ndarray:
    """Row sums of ``values`` (n, d) within each level: shape (nlevels, d)."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=nlevels)
    if counts.min() > 0:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return np.add.reduceat(values[order], starts, axis=0)
    out = np.zeros((nlevels, values.shape[1]))
    np.add.at(out, codes, values)
    return out


def cross_products_bytes(n: int, p: int, sizes: Sequence[int], levels: Sequence[int]) -> float:
    """Peak memory of :func:`cross_products` (and of the scaled copies it is given), in bytes.

    An upper estimate from the arrays allocated below: the dense ``[X y]``, the per-row
    products of the first term (and their sorted copy), the sparse ``Z`` of the other
    terms (built, stacked and transposed), and the dense ``m × m`` rest block.

    Parameters
    ----------
    n, p : int
        Rows and fixed-effects columns.
    sizes, levels : sequence of int
        Columns ``kᵢ`` and levels ``ℓᵢ`` of each term, engine order (most levels first).
    """
    k1 = sizes[0] if sizes else 0
    per_row = k1 * k1 + (p + 1) * k1
    rows = 8.0 * n * ((p + 1) + 3 * per_row + 1 + p + 1 + sum(sizes))
    rest = sum(k * l for k, l in zip(sizes[1:], levels[1:], strict=True))
    if len(sizes) > 1:
        rows += 56.0 * n * sum(sizes[1:]) + 40.0 * n * k1 + 16.0 * n * k1 * sum(sizes[1:])
    m = rest + p + 1
    return rows + 24.0 * m * m


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
    v1 = first.values
    # per level: Σ v vᵀ (a11) and Σ [X y]ᵀ v (the dense rows of a21)
    products = np.concatenate([(v1[:, :, None] * v1[:, None, :]).reshape(n, k1 * k1),
                               (dense[:, :, None] * v1[:, None, :]).reshape(n, (p + 1) * k1)], axis=1)
    sums = _sum_by_level(first.codes, products, l1)
    a11 = sums[:, : k1 * k1].reshape(l1, k1, k1)
    dense_rows = sums[:, k1 * k1 :].reshape(l1, p + 1, k1).transpose(1, 0, 2).reshape(p + 1, l1 * k1)
    top = dense.T @ dense
    if len(terms) == 1:
        return Blocks(n, p, (l1,), (k1,), a11, sp.csc_array(dense_rows), np.ascontiguousarray(top))
    z_rest = sp.hstack([_z_matrix(t, n) for t in terms[1:]], format="csr")
    z1 = _z_matrix(first, n)
    zt = z_rest.T.tocsr()
    zz = np.asarray((zt @ z_rest).toarray())
    zd = np.asarray(zt @ dense)
    a22 = np.block([[zz, zd], [zd.T, top]])
    a21 = sp.vstack([sp.csr_array(zt @ z1), sp.csr_array(dense_rows)], format="csc")
    return Blocks(
        n=n,
        p=p,
        levels=tuple(t.nlevels for t in terms),
        sizes=tuple(t.values.shape[1] for t in terms),
        a11=a11,
        a21=a21,
        a22=np.ascontiguousarray(a22),
    )
