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

__all__ = ["Blocks", "TermData", "cross_products"]


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
    k1 = first.values.shape[1]
    a11 = np.zeros((first.nlevels, k1, k1))
    for a in range(k1):
        for b in range(a, k1):
            w = first.values[:, a] * first.values[:, b]
            a11[:, a, b] = np.bincount(first.codes, weights=w, minlength=first.nlevels)
            a11[:, b, a] = a11[:, a, b]
    rest = [_z_matrix(t, n) for t in terms[1:]]
    dense = np.column_stack([X, y])
    z1 = _z_matrix(first, n)
    if rest:
        r = sp.hstack([*rest, sp.csr_array(dense)], format="csr")
        a22 = np.asarray((r.T @ r).toarray())
        a21 = sp.csc_array(r.T @ z1)
    else:
        a22 = dense.T @ dense
        a21 = sp.csc_array(z1.T @ dense).T.tocsc()
    return Blocks(
        n=n,
        p=p,
        levels=tuple(t.nlevels for t in terms),
        sizes=tuple(t.values.shape[1] for t in terms),
        a11=a11,
        a21=sp.csc_array(a21),
        a22=np.ascontiguousarray(a22),
    )
