"""Model matrices of right-hand sides (fixed part, random-term left-hand sides), built as R's
``model.matrix`` builds them.

Each term is the product of its variables' columns, the first variable varying fastest;
a factor in a term is coded by contrasts when the term without it is the empty term or
is contained in an earlier term, and by one indicator per level otherwise (R's
``TermCode``); without an intercept, the first factor of the first term holding one gets
indicators for all its levels. Columns are named as lme4 names them: ``(Intercept)``,
``recipeB``, ``recipeB:temperature``, ``poly(x, 2)1``, ``f.L``, ``scale(x)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..formula.expr import Expr
from ..formula.terms import Terms
from .evaluate import Categorical, Numeric, Variable

__all__ = [
    "MAX_MAGNITUDE",
    "MIN_MAGNITUDE",
    "ModelMatrix",
    "check_values",
    "codings",
    "contrast_matrix",
    "model_matrix",
]

#: Largest magnitude accepted in a model column: squares of larger values come close to
#: overflowing float64 (largest ≈ 1.8e308) in the cross-products and the response's scale.
MAX_MAGNITUDE = 1e150
#: A non-zero column whose largest magnitude is below this has squares that underflow to 0.
MIN_MAGNITUDE = 1e-150


@dataclass(frozen=True, slots=True)
class ModelMatrix:
    """A dense model matrix, its lme4-style column names and the term of each column.

    Attributes
    ----------
    values : ndarray of float64, shape (n, k)
    names : tuple of str, length k
    assign : tuple of int, length k
        R's ``assign``: 0 for the intercept, ``i`` for the ``i``-th term (1-based).
    """

    values: np.ndarray
    names: tuple[str, ...]
    assign: tuple[int, ...] = ()


def contrast_matrix(kind: str, levels: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """R's contrast matrix of a factor and the suffixes of its columns.

    Parameters
    ----------
    kind : {"treatment", "sum", "helmert", "poly", "SAS"}
    levels : tuple of str
        At least two.

    Returns
    -------
    matrix : ndarray, shape (L, L - 1)
    suffixes : tuple of str
        ``contr.treatment``: the levels but the first; ``contr.SAS``: all but the last;
        ``contr.sum`` and ``contr.helmert``: ``1 .. L-1``; ``contr.poly``: ``.L .Q .C ^4 ...``.
    """
    n = len(levels)
    if kind == "treatment":
        return np.eye(n)[:, 1:], levels[1:]
    if kind == "SAS":
        return np.eye(n)[:, :-1], levels[:-1]
    if kind == "sum":
        matrix = np.vstack([np.eye(n - 1), -np.ones((1, n - 1))])
        return matrix, tuple(str(i) for i in range(1, n))
    if kind == "helmert":
        matrix = np.zeros((n, n - 1))
        for j in range(1, n):
            matrix[:j, j - 1] = -1.0
            matrix[j, j - 1] = float(j)
        return matrix, tuple(str(i) for i in range(1, n))
    if kind == "poly":
        scores = np.arange(1.0, n + 1.0)
        centred = scores - scores.mean()
        q, r = np.linalg.qr(centred[:, None] ** np.arange(n))
        z = q * np.sign(np.diag(r))
        z /= np.sqrt(np.sum(z * z, axis=0))
        names = [".L", ".Q", ".C"][: n - 1] + [f"^{d}" for d in range(4, n)]
        return np.ascontiguousarray(z[:, 1:]), tuple(names)
    raise DataError(f"unknown contrasts {kind!r}")


def codings(terms: Terms, variables: Mapping[Expr, Variable]) -> list[tuple[bool, ...]]:
    """For each term, whether each of its factors gets one indicator per level (R's ``TermCode``).

    A factor is coded by contrasts when the term without it is empty or is contained in an
    earlier term; otherwise by indicators. Without an intercept, the first factor of the
    first term holding a factor is coded by indicators.
    """
    out: list[list[bool]] = []
    for index, term in enumerate(terms.terms):
        flags = []
        for variable in term.variables:
            if not isinstance(variables[variable], Categorical):
                flags.append(False)
                continue
            rest = set(term.variables) - {variable}
            contrasts = not rest or any(rest <= set(earlier.variables) for earlier in terms.terms[:index])
            flags.append(not contrasts)
        out.append(flags)
    if not terms.intercept:
        done = False
        for term, flags in zip(terms.terms, out, strict=True):
            for j, variable in enumerate(term.variables):
                if isinstance(variables[variable], Categorical):
                    flags[j] = True
                    done = True
                    break
            if done:
                break
    return [tuple(flags) for flags in out]


def _columns(name: str, variable: Variable, full: bool) -> tuple[np.ndarray, list[str]]:
    """The columns one variable contributes to a term, and their names."""
    if isinstance(variable, Numeric):
        k = variable.k
        if k == 1:
            return variable.values, [name]
        suffixes = variable.colnames or tuple(str(i) for i in range(1, k + 1))
        return variable.values, [name + s for s in suffixes]
    levels = variable.levels
    if len(levels) < 2 and not full:
        raise DataError(
            f"the categorical variable {name!r} has only {len(levels)} level in the rows used: it cannot "
            "be coded by contrasts (drop it, or check the rows with missing values)"
        )
    if full:
        matrix, suffixes = np.eye(len(levels)), levels
    else:
        matrix, suffixes = contrast_matrix(variable.contrast_kind, levels)
    return matrix[variable.codes], [name + s for s in suffixes]


def column_count(terms: Terms, variables: Mapping[Expr, Variable]) -> int:
    """How many columns :func:`model_matrix` will build (counted before anything is allocated)."""
    total = 1 if terms.intercept else 0
    for term, flags in zip(terms.terms, codings(terms, variables), strict=True):
        width = 1
        for variable, full in zip(term.variables, flags, strict=True):
            value = variables[variable]
            if isinstance(value, Numeric):
                width *= value.k
            else:
                width *= len(value.levels) if full else max(len(value.levels) - 1, 1)
        total += width
    return total


def model_matrix(terms: Terms, variables: Mapping[Expr, Variable], n: int, where: str) -> ModelMatrix:
    """The model matrix of ``terms`` on evaluated ``variables`` (all on the same ``n`` rows).

    Raises
    ------
    DataError
        A factor with one level coded by contrasts; more columns than rows.
    """
    width = column_count(terms, variables)
    if width > max(n, 1):
        raise DataError(
            f"the {where} asks for {width} columns but there are only {n} observations: simplify it "
            "(a factor with many levels, or a product of factors, makes one column per level or cell)"
        )
    blocks: list[np.ndarray] = []
    names: list[str] = []
    assign: list[int] = []
    if terms.intercept:
        blocks.append(np.ones((n, 1)))
        names.append("(Intercept)")
        assign.append(0)
    for index, (term, flags) in enumerate(zip(terms.terms, codings(terms, variables), strict=True), start=1):
        current = np.ones((n, 1))
        labels = [""]
        for variable, full in zip(term.variables, flags, strict=True):
            values, suffixes = _columns(variable.text, variables[variable], full)
            # the first variable varies fastest: column j + k * len(current) = current[j] * values[k]
            current = (current[:, None, :] * values[:, :, None]).reshape(n, -1)
            labels = [f"{old}:{new}" if old else new for new in suffixes for old in labels]
        blocks.append(current)
        names.extend(labels)
        assign.extend([index] * len(labels))
    values = np.column_stack(blocks) if blocks else np.empty((n, 0))
    return ModelMatrix(np.ascontiguousarray(values, dtype=np.float64), tuple(names), tuple(assign))


def check_values(values: np.ndarray, names: tuple[str, ...], where: str) -> None:
    """Refuse non-finite values and magnitudes whose squares overflow or underflow.

    Parameters
    ----------
    values : ndarray, shape (n, k)
    names : tuple of str, length k
    where : str
        Which part of the model the columns belong to, for the message.

    Raises
    ------
    DataError
        Naming the first offending column.
    """
    bad = ~np.isfinite(values)
    if bad.any():
        column = names[int(np.nonzero(bad.any(axis=0))[0][0])]
        raise DataError(f"the {where} column {column!r} has {int(bad.sum())} non-finite values (log of 0?)")
    if values.size == 0:
        return
    peaks = np.max(np.abs(values), axis=0)
    for name, peak in zip(names, peaks, strict=True):
        if peak > MAX_MAGNITUDE or 0.0 < peak < MIN_MAGNITUDE:
            raise DataError(
                f"the {where} column {name!r} has values of magnitude up to {peak:.3g}: lmmdx needs "
                f"magnitudes between {MIN_MAGNITUDE:.0e} and {MAX_MAGNITUDE:.0e} (their squares must stay "
                "finite and non-zero); rescale it"
            )
