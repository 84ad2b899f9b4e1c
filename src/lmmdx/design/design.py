"""The design: response, fixed-effects matrix and random-effects blocks of a model on data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from ..formula.terms import ModelFormula
from .exact import EXACT_FIT_SHARE, exact_fit_message, unexplained_share
from .fixed import FixedEffects, fixed_effects
from .grouping import grouping_factor
from .matrix import check_values, model_matrix, required_columns
from .random import ReBlock
from .response import glm_response, offset_values, response_columns, split_offsets

__all__ = ["Design", "build_design", "check_response", "used_columns"]


@dataclass(frozen=True, slots=True)
class Design:
    """Everything the engine needs from the data, built once.

    Attributes
    ----------
    formula : ModelFormula
    y : ndarray of float64, shape (n,)
    fixed : FixedEffects
        X (aliased columns already dropped), its names and the dropped names.
    blocks : tuple of ReBlock
        Random-effects terms sorted by number of levels, largest first (stable),
        which is the order of θ, as in lme4.
    n_missing : int
        Rows dropped because a used column was missing.
    row_index : ndarray
        Labels of the rows used, in the order of ``y``.
    frame : DataFrame
        The table the design was built from, as given (for refits with other formulas).
    family : str or None
        ``"binomial"`` or ``"poisson"`` for a GLMM (None for a linear model).
    weights : ndarray or None
        Prior weights of a GLMM (binomial trials), in the order of ``y``.
    offset : ndarray or None
        The summed ``offset()`` terms of the fixed part, in the order of ``y``.
    """

    formula: ModelFormula
    y: np.ndarray
    fixed: FixedEffects
    blocks: tuple[ReBlock, ...]
    n_missing: int
    row_index: np.ndarray
    frame: pd.DataFrame
    family: str | None = None
    weights: np.ndarray | None = None
    offset: np.ndarray | None = None

    @property
    def X(self) -> np.ndarray:
        """Fixed-effects model matrix, shape (n, p)."""
        return self.fixed.X

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return int(self.y.shape[0])


def used_columns(formula: ModelFormula, frame: pd.DataFrame, family: str | None = None) -> list[str]:
    """The columns of ``frame`` the formula uses: response, fixed part, random terms, grouping.

    With a ``family`` (GLMMs) the response may be ``cbind(...)`` and the fixed part may hold ``offset()``.

    Raises
    ------
    DataError
        A column the formula names is not in ``frame``.
    """
    used: list[str] = []

    def add(names: set[str] | tuple[str, ...], where: str) -> None:
        for name in sorted(names) if isinstance(names, set) else names:
            if name not in frame.columns:
                known = ", ".join(map(str, list(frame.columns)[:20]))
                raise DataError(f"unknown column {name!r} in the {where}; the data have: {known}")
            if name not in used:
                used.append(name)

    if family is None:
        add(required_columns(formula.response, "response"), "response")
        add(required_columns(formula.fixed, "fixed part"), "fixed part")
    else:
        fixed, offsets = split_offsets(formula.fixed)
        add(response_columns(formula.response, frame), "response")
        add(required_columns(fixed, "fixed part"), "fixed part")
        for expr in offsets:
            add(required_columns(f"I({expr})", "offset"), "offset")
    for term in formula.random:
        add(required_columns(term.lhs, f"random term {term.text}"), f"random term {term.text}")
        add(term.group, f"grouping of {term.text}")
    return used


def _prepare(frame: pd.DataFrame, used: list[str], grouping: set[str]) -> tuple[pd.DataFrame, int]:
    """Drop rows with a missing value in a used column; make boolean predictors categorical.

    ``grouping`` names the columns whose booleans stay as they are (grouping factors, the response).
    The frame is not copied when nothing needs to change.
    """
    columns = {name: frame[name] for name in used}
    missing = np.zeros(len(frame), dtype=bool)
    for column in columns.values():
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            missing |= np.isnan(column.to_numpy())
        elif not (isinstance(dtype, np.dtype) and dtype.kind in "iub"):  # numpy ints/bools cannot be missing
            missing |= column.isna().to_numpy()
    n_missing = int(missing.sum())
    data = frame.loc[~missing] if n_missing else frame
    if n_missing:
        columns = {name: data[name] for name in used}
    if len(data) == 0:
        raise DataError(
            f"no rows left: all {len(frame)} rows have a missing value in {', '.join(map(repr, used))}"
            if len(frame)
            else "the data have no rows"
        )
    converted = {}
    for name, column in columns.items():
        dtype = column.dtype
        if name not in grouping and (pd.api.types.is_datetime64_any_dtype(dtype)
                                     or pd.api.types.is_timedelta64_dtype(dtype)):
            raise DataError(
                f"column {name!r} holds dates or durations: convert it to a number (e.g. days since the "
                "first date) or to text for a categorical predictor"
            )
        if name not in grouping and pd.api.types.is_bool_dtype(dtype):
            flags = column.to_numpy(dtype=bool)
            converted[name] = pd.Categorical(np.where(flags, "TRUE", "FALSE"), ["FALSE", "TRUE"])
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            values = column.to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values)
            if bad.any():
                raise DataError(f"column {name!r} has {int(bad.sum())} infinite values")
            if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # nullable Int64, Float64, arrow numbers
                converted[name] = values
        elif name not in grouping and pd.api.types.is_string_dtype(dtype) and dtype != object:
            converted[name] = column.astype(object)  # pandas and arrow strings, for formulaic
    if converted:
        data = data.loc[:, used].assign(**converted)
    return data, n_missing


def _response(formula: ModelFormula, data: pd.DataFrame) -> np.ndarray:
    name = formula.response.strip("`")
    if name in data.columns:
        column = data[name]
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype):
            raise DataError(f"the response {name!r} is boolean: a linear mixed model needs a numeric response")
        if not pd.api.types.is_numeric_dtype(dtype):
            raise DataError(f"the response {name!r} is not numeric (it has type {dtype})")
        return column.to_numpy(dtype=np.float64)
    matrix = model_matrix(f"0 + {formula.response}", data, "response")
    if matrix.values.shape[1] != 1:
        raise DataError(f"the response {formula.response!r} is not one numeric column")
    y = matrix.values[:, 0]
    if not np.all(np.isfinite(y)):
        raise DataError(f"the response {formula.response!r} has {int((~np.isfinite(y)).sum())} non-finite values")
    return y


def check_response(y: np.ndarray, name: str) -> None:
    """Refuse a response that is non-finite, of extreme magnitude or the same in every row.

    Raises
    ------
    DataError
    """
    check_values(y[:, None], (name,), "response")
    if y.size > 1 and np.all(y == y[0]):
        raise DataError(
            f"the response {name!r} has the same value ({y[0]:.6g}) in all {y.size} rows used: "
            "there is no variation to model"
        )


def build_design(
    formula: ModelFormula,
    frame: pd.DataFrame,
    check_identifiable: bool = True,
    fixed_only: bool = False,
    family: str | None = None,
) -> Design:
    """Turn a parsed formula and a data frame into a :class:`Design`.

    Parameters
    ----------
    formula : ModelFormula
    frame : DataFrame
    check_identifiable : bool
        Refuse, as lme4 does, grouping factors with one level or with as many levels
        as observations, and more random effects than observations; and a response
        that the fixed part reproduces exactly (:mod:`lmmdx.design.exact`). The
        diagnosis turns this off to explain such models instead.
    fixed_only : bool
        Accept a formula without random-effects terms (a design with no blocks), for
        the ordinary least-squares null models of likelihood-ratio tests.
    family : str, optional
        ``"binomial"`` or ``"poisson"``: the response is read as glmer reads it
        (:mod:`lmmdx.design.response`) and ``offset()`` terms are taken out of the fixed part.

    Raises
    ------
    FormulaError
        No random-effects term (unless ``fixed_only``).
    DataError
        Unknown column, non-numeric response, no rows, unidentifiable grouping.
    """
    if not formula.random and not fixed_only:
        raise FormulaError(
            f"the formula {formula.text!r} has no random-effects term such as (1 | group); "
            "for a model without random effects use ordinary least squares"
        )
    fixed_text, offsets = split_offsets(formula.fixed) if family is not None else (formula.fixed, ())
    used = used_columns(formula, frame, family)
    grouping = {name for term in formula.random for name in term.group}
    data, n_missing = _prepare(frame, used, grouping | {formula.response.strip("`")})
    weights = offset = None
    if family is None:
        y = _response(formula, data)
        check_response(y, formula.response.strip("`"))
    else:
        response = glm_response(formula.response, data, family)
        y, weights = response.y, response.weights
        offset = offset_values(offsets, data)
    fixed = fixed_effects(fixed_text, data)
    if fixed.X.shape[1] >= y.shape[0]:
        raise DataError(
            f"the fixed part has {fixed.X.shape[1]} columns (aliased ones dropped) but there are only "
            f"{y.shape[0]} observations: nothing is left to estimate the variances; simplify the fixed part"
        )
    if check_identifiable and formula.random:
        share = unexplained_share(fixed.X, y, "(Intercept)" in fixed.names)
        if share is not None and share < EXACT_FIT_SHARE:
            raise DataError(exact_fit_message(formula.response.strip("`"), share))
    blocks = []
    for term in formula.random:
        factor = grouping_factor(data, term.group)
        lhs = model_matrix(term.lhs, data, f"random term {term.text}")
        check_values(lhs.values, lhs.names, f"random term {term.text}")
        if lhs.values.shape[1] == 0:
            raise FormulaError(f"the random term {term.text} has no columns")
        blocks.append(ReBlock(term, factor, lhs.names, lhs.values))
    n = y.shape[0]
    if check_identifiable:
        # an observation-level random effect is identifiable in a GLMM (no residual variance)
        _check_levels(blocks, n, glmm=family is not None)
    blocks.sort(key=lambda b: -b.nlevels)
    return Design(formula, y, fixed, tuple(blocks), n_missing, data.index.to_numpy(), frame, family, weights, offset)


def _check_levels(blocks: list[ReBlock], n: int, glmm: bool = False) -> None:
    for block in blocks:
        if block.nlevels < 2:
            raise DataError(
                f"grouping factor {block.group!r} has only one level in the data used: a variance "
                f"between its levels cannot be estimated (lme4 refuses this too); drop {block.term.text} "
                "or use a factor with several levels"
            )
        if block.nlevels >= n and not glmm:
            raise DataError(
                f"grouping factor {block.group!r} has as many levels ({block.nlevels}) as observations: "
                f"the variance of {block.term.text} cannot be told apart from the residual variance "
                "(lme4 refuses this too); run `lmmdx diagnose` for an explanation"
            )
    q = sum(b.nlevels * b.k for b in blocks)
    if q >= n and not glmm:
        raise DataError(
            f"the model asks for {q} random effects but there are only {n} observations "
            "(lme4 refuses this too); simplify the random-effects terms"
        )
