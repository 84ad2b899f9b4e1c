"""Responses and offsets of generalised linear mixed models, read as glmer reads them.

Binomial: ``cbind(successes, failures)`` (y = proportion, prior weight = trials), a 0/1 or
logical column, or a two-level factor whose first level in R's sorted order is the failure
(VerbAgg's ``r2``: N/Y). Poisson: non-negative integer counts. ``offset(expr)`` terms of the
fixed part are taken out of it and summed into the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from ..formula.lexer import NAME, match_brackets, tokenize
from .matrix import model_matrix, required_columns

__all__ = ["GlmResponse", "glm_response", "response_columns", "split_offsets"]


@dataclass(frozen=True, slots=True)
class GlmResponse:
    """The response of a GLMM.

    Attributes
    ----------
    y : ndarray, shape (n,)
        Proportions of successes (binomial) or counts (Poisson).
    weights : ndarray, shape (n,)
        Prior weights: the number of trials of each row for ``cbind`` responses, else 1.
    success : str or None
        What counts as a success for a factor response (its second level), else None.
    """

    y: np.ndarray
    weights: np.ndarray
    success: str | None = None


def _split_args(text: str) -> list[str] | None:
    """The arguments of ``cbind(a, b)`` as written, or None when ``text`` is not such a call."""
    tokens = tokenize(text)
    if len(tokens) < 4 or tokens[0].kind != NAME or tokens[0].text != "cbind" or not tokens[1].is_op("("):
        return None
    partner = match_brackets(tokens, text)
    if partner[1] != len(tokens) - 1:
        return None
    args, start, index = [], tokens[2].pos, 2
    while index < len(tokens) - 1:
        token = tokens[index]
        if partner[index] > index:
            index = partner[index] + 1
            continue
        if token.is_op(","):
            args.append(text[start : token.pos].strip())
            start = tokens[index + 1].pos
        index += 1
    args.append(text[start : tokens[-1].pos].strip())
    return args


def _cbind_args(text: str) -> list[str] | None:
    args = _split_args(text)
    if args is not None and (len(args) != 2 or not all(args)):
        raise FormulaError(f"cbind() in the response takes two columns (successes, failures), got {text!r}")
    return args


def _is_column(expr: str, frame_columns: pd.Index) -> str | None:
    name = expr[1:-1] if len(expr) > 2 and expr[0] == expr[-1] == "`" else expr
    return name if name in frame_columns else None


def response_columns(response: str, frame: pd.DataFrame) -> set[str]:
    """Columns the response of a GLMM needs (``cbind(a, n - a)`` needs a and n)."""
    args = _cbind_args(response)
    exprs = args if args is not None else [response]
    out: set[str] = set()
    for expr in exprs:
        column = _is_column(expr, frame.columns)
        out |= {column} if column is not None else required_columns(f"I({expr})", "response")
    return out


def _numeric(expr: str, data: pd.DataFrame) -> np.ndarray:
    column = _is_column(expr, data.columns)
    if column is not None:
        series = data[column]
        if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            raise DataError(f"{column!r} in cbind() must be numeric counts, not {series.dtype}")
        return series.to_numpy(dtype=np.float64)
    return model_matrix(f"0 + I({expr})", data, "response").values[:, 0]


def _r_sorted(labels: list[str]) -> list[str]:
    """Labels in the order R's ``factor()`` gives them in an English locale (case-insensitive first)."""
    return sorted(labels, key=lambda s: (s.casefold(), s.swapcase()))


def _binomial_single(name: str, series: pd.Series) -> GlmResponse:
    dtype = series.dtype
    n = len(series)
    if pd.api.types.is_bool_dtype(dtype):
        return GlmResponse(series.to_numpy(dtype=np.float64), np.ones(n))
    if pd.api.types.is_numeric_dtype(dtype):
        y = series.to_numpy(dtype=np.float64)
        if not np.all((y == 0) | (y == 1)):
            bad = y[(y != 0) & (y != 1)][0]
            raise DataError(
                f"the binomial response {name!r} has the value {bad:g}: use 0/1 values, a two-level factor or "
                "cbind(successes, failures) for counts out of several trials"
            )
        return GlmResponse(y, np.ones(n))
    if isinstance(dtype, pd.CategoricalDtype):
        present = set(series.astype(object).unique())
        levels = [str(c) for c in dtype.categories if c in present]
        values = series.astype(object).map(str)
    else:
        values = series.astype(object).map(str)
        levels = _r_sorted(sorted(set(values)))
    if len(levels) != 2:
        raise DataError(
            f"the binomial response {name!r} has {len(levels)} distinct values ({', '.join(levels[:5])}): "
            "a factor response needs exactly two levels (the first, in sorted order, is the failure)"
        )
    y = (values == levels[1]).to_numpy(dtype=np.float64)
    return GlmResponse(y, np.ones(n), levels[1])


def glm_response(response: str, data: pd.DataFrame, family: str) -> GlmResponse:
    """Read the response of a GLMM of ``family`` (``"binomial"`` or ``"poisson"``).

    Raises
    ------
    DataError
        Values the family cannot take (negative or non-integer counts, a factor without two
        levels, successes above the trials, no variation at all).
    """
    args = _cbind_args(response)
    if args is not None:
        if family != "binomial":
            raise DataError(f"cbind() responses are binomial (successes, failures); the family is {family}")
        succ, fail = (_numeric(a, data) for a in args)
        for values, what in ((succ, args[0]), (fail, args[1])):
            if np.any(~np.isfinite(values)) or np.any(values < 0) or np.any(values != np.rint(values)):
                raise DataError(f"cbind(): {what!r} must hold non-negative whole numbers")
        trials = succ + fail
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(trials > 0, succ / np.where(trials > 0, trials, 1.0), 0.0)
        if not np.any(trials > 0):
            raise DataError("cbind(): every row has zero trials")
        return GlmResponse(y, trials)
    name = response.strip("`")
    if name in data.columns:
        series = data[name]
    else:
        series = pd.Series(model_matrix(f"0 + I({response})", data, "response").values[:, 0], index=data.index)
    if family == "binomial":
        return _binomial_single(name, series)
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(f"the Poisson response {name!r} must be counts, not {series.dtype}")
    y = series.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(y) | (y < 0) | (y != np.rint(y))
    if bad.any():
        raise DataError(f"the Poisson response {name!r} must hold non-negative whole numbers; "
                        f"it has {float(y[bad][0]):g}")
    return GlmResponse(y, np.ones(len(y)))


def split_offsets(fixed: str) -> tuple[str, tuple[str, ...]]:
    """Take the top-level ``offset(expr)`` terms out of a fixed part: ``(rest, (expr, ...))``."""
    if "offset" not in fixed:
        return fixed, ()
    tokens = tokenize(fixed)
    partner = match_brackets(tokens, fixed)
    offsets, keep, at, index, depth_ok = [], [], 0, 0, True
    while index < len(tokens):
        token = tokens[index]
        if (depth_ok and token.kind == NAME and token.text == "offset" and index + 1 < len(tokens)
                and tokens[index + 1].is_op("(")):
            close = partner[index + 1]
            start = index
            # the sign before it belongs to the term
            if start > 0 and tokens[start - 1].is_op("+", "-"):
                if tokens[start - 1].is_op("-"):
                    raise FormulaError("an offset cannot be subtracted; write offset(-x)", fixed, tokens[start - 1].pos)
                start -= 1
            keep.append(fixed[at : tokens[start].pos])
            offsets.append(fixed[tokens[index + 1].end : tokens[close].pos].strip())
            at = tokens[close].end
            index = close + 1
            continue
        if partner[index] > index:
            index = partner[index] + 1
            continue
        index += 1
    keep.append(fixed[at:])
    rest = "".join(keep).strip()
    if rest.startswith("+"):
        rest = rest[1:].strip()
    return rest or "1", tuple(offsets)


def offset_values(offsets: tuple[str, ...], data: pd.DataFrame) -> np.ndarray | None:
    """The summed offset of each row, or None without offsets."""
    if not offsets:
        return None
    total = np.zeros(len(data))
    for expr in offsets:
        column = _is_column(expr, data.columns)
        values = (data[column].to_numpy(dtype=np.float64) if column is not None
                  else model_matrix(f"0 + I({expr})", data, "offset").values[:, 0])
        if not np.all(np.isfinite(values)):
            raise DataError(f"offset({expr}) has non-finite values (log of 0?)")
        total += values
    return total
