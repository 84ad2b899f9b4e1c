"""The fixed-effects matrix X, with aliased (linearly dependent) columns dropped and named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..formula.expr import Expr
from ..formula.terms import Terms
from .evaluate import Variable
from .matrix import check_values, model_matrix

__all__ = ["ALIAS_TOLERANCE", "FixedEffects", "fixed_effects"]

#: A column is aliased when its part orthogonal to the columns before it is smaller
#: than this fraction of its norm (lme4 uses 1e-7 in its rank check of X).
ALIAS_TOLERANCE = 1e-7
#: Above this the Gram-matrix screen settles full rank without a QR (its own rounding error is
#: about the square root of the machine precision, far below).
_SCREEN = 1e-4


@dataclass(frozen=True, slots=True)
class FixedEffects:
    """Fixed-effects model matrix.

    Attributes
    ----------
    X : ndarray of float64, shape (n, p)
        Full-rank model matrix.
    names : tuple of str, length p
        lme4-style column names.
    dropped : tuple of str
        Columns dropped because they are linear combinations of earlier ones.
    """

    X: np.ndarray
    names: tuple[str, ...]
    dropped: tuple[str, ...]


def aliased_columns(X: np.ndarray) -> np.ndarray:
    """Boolean mask of columns that are (numerically) combinations of earlier columns.

    A pivoted QR tells whether X has full rank; only when it does not are the
    columns walked in order, so that the later of two aliased columns is dropped.
    """
    p = X.shape[1]
    norms = np.linalg.norm(X, axis=0)
    alias = norms == 0
    if p == 0:
        return alias
    if not alias.any():
        # quick screen: the Cholesky factor of the normalised Gram matrix has, on its
        # diagonal, each column's distance from the span of the earlier ones
        gram = (X / norms).T @ (X / norms)
        try:
            if np.min(np.diag(np.linalg.cholesky(gram))) > _SCREEN:
                return alias
        except np.linalg.LinAlgError:
            pass
    import scipy.linalg  # only when the screen cannot settle the rank

    r = scipy.linalg.qr(X, mode="r", pivoting=True, check_finite=False)[0]
    diag = np.abs(np.diag(r))
    if diag.size == p and diag[-1] > ALIAS_TOLERANCE * diag[0] and not alias.any():
        return alias
    kept: list[int] = []
    for j in range(p):
        if alias[j]:
            continue
        if kept:
            coef = np.linalg.lstsq(X[:, kept], X[:, j], rcond=None)[0]
            residual = np.linalg.norm(X[:, j] - X[:, kept] @ coef)
        else:
            residual = norms[j]
        if residual <= ALIAS_TOLERANCE * norms[j]:
            alias[j] = True
        else:
            kept.append(j)
    return alias


def fixed_effects(terms: Terms, variables: Mapping[Expr, Variable], n: int) -> FixedEffects:
    """The model matrix of the fixed part on the evaluated variables, aliased columns dropped."""
    matrix = model_matrix(terms, variables, n, "fixed part")
    X = matrix.values
    check_values(X, matrix.names, "fixed-effects")
    if X.shape[1] == 0:
        return FixedEffects(X, (), ())
    alias = aliased_columns(X)
    if not alias.any():
        return FixedEffects(X, matrix.names, ())
    keep = ~alias
    names = tuple(n for n, k in zip(matrix.names, keep, strict=True) if k)
    dropped = tuple(n for n, k in zip(matrix.names, keep, strict=True) if not k)
    return FixedEffects(np.ascontiguousarray(X[:, keep]), names, dropped)
