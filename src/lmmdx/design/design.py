"""The design: response, fixed-effects matrix and random-effects blocks of a model on data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from ..formula.expr import Expr, Name
from ..formula.terms import INTERCEPT, ModelFormula, RandomTerm
from .evaluate import Categorical, Evaluator, Numeric, Variable, columns_read, take
from .exact import EXACT_FIT_SHARE, exact_fit_message, unexplained_share
from .fixed import FixedEffects, fixed_effects
from .grouping import grouping_factor
from .matrix import check_values, model_matrix
from .random import ReBlock
from .response import glm_response

__all__ = ["Design", "ModelData", "build_design", "check_levels", "check_repeated", "check_response", "model_data",
           "offset_values", "response_values", "used_columns"]


@dataclass(frozen=True, slots=True)
class Design:
    """Everything the engine needs from the data, built once.

    Attributes
    ----------
    formula : ModelFormula
    y : ndarray of float64, shape (n,)
        The response the engine fits: the formula's response minus the offset, if any.
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
    offset : ndarray of float64, shape (n,), or None
        The known part of the linear predictor (the sum of the ``offset()`` terms).
    family : str or None
        ``"binomial"`` or ``"poisson"`` for a GLMM (None for a linear model). A GLMM's ``y`` is
        the response as read (proportions or counts), its offset not subtracted.
    weights : ndarray or None
        Prior weights of a GLMM (binomial trials), in the order of ``y``.
    """

    formula: ModelFormula
    y: np.ndarray
    fixed: FixedEffects
    blocks: tuple[ReBlock, ...]
    n_missing: int
    row_index: np.ndarray
    frame: pd.DataFrame
    offset: np.ndarray | None = None
    family: str | None = None
    weights: np.ndarray | None = None

    @property
    def X(self) -> np.ndarray:
        """Fixed-effects model matrix, shape (n, p)."""
        return self.fixed.X

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        return int(self.y.shape[0])

    @property
    def response(self) -> np.ndarray:
        """The formula's response on the rows used (``y`` plus the offset; a GLMM's ``y``)."""
        return self.y if self.offset is None or self.family is not None else self.y + self.offset


def _where(formula: ModelFormula, expr: Expr) -> str:
    """Which part of the formula a variable belongs to, for messages."""
    if expr == formula.response:
        return "response"
    if expr in formula.fixed.variables():
        return "fixed part"
    for term in formula.random:
        if expr in term.lhs.variables():
            return f"random term {term.text}"
    return "formula"


def used_columns(formula: ModelFormula, frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` the formula uses: response, fixed part, random terms, grouping.

    Raises
    ------
    DataError
        A column the formula names is not in ``frame``.
    """
    columns = frame.columns
    used: dict[str, None] = {}
    for variable in formula.variables():
        used.update(dict.fromkeys(columns_read(variable, columns, _where(formula, variable))))
    for term in formula.random:
        for name in term.group:
            if name not in columns:
                known = ", ".join(map(str, list(columns)[:20]))
                raise DataError(f"unknown column {name!r} in the grouping of {term.text}; the data have: {known}")
            used.setdefault(name)
    return list(used)


@dataclass(frozen=True, slots=True)
class ModelData:
    """The variables of a formula evaluated on data, on the rows without missing values.

    Attributes
    ----------
    variables : dict of Expr to Variable
        Every variable of the formula (response, fixed, offsets, left-hand sides).
    rows : ndarray of bool, shape (len(frame),)
        The rows kept.
    data : DataFrame
        The rows kept (grouping factors are read from it): ``frame`` itself when no row is
        dropped (no copy), else the used columns on the rows kept.
    n_missing : int
    """

    variables: Mapping[Expr, Variable]
    rows: np.ndarray
    data: pd.DataFrame
    n_missing: int


def model_data(formula: ModelFormula, frame: pd.DataFrame) -> ModelData:
    """Evaluate every variable of ``formula`` on ``frame`` and drop rows with a missing value.

    Variables are evaluated on every row (as R's ``model.frame`` does), then rows with a
    missing value in a used column are dropped and factors keep the levels that remain.

    Raises
    ------
    DataError
        Unknown column, no rows left, infinite values, a value of the wrong type.
    """
    used = used_columns(formula, frame)
    missing = np.zeros(len(frame), dtype=bool)
    for name in used:
        column = frame[name]
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            values = column.to_numpy()
            missing |= np.isnan(values)
            infinite = np.isinf(values)
            if infinite.any():
                raise DataError(f"column {name!r} has {int(infinite.sum())} infinite values")
        elif not (isinstance(dtype, np.dtype) and dtype.kind in "iub"):  # numpy ints/bools cannot be missing
            missing |= column.isna().to_numpy()
            if pd.api.types.is_float_dtype(dtype):
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
                if np.isinf(values).any():
                    raise DataError(f"column {name!r} has {int(np.isinf(values).sum())} infinite values")
    n_missing = int(missing.sum())
    if n_missing == len(frame):
        raise DataError(
            f"no rows left: all {len(frame)} rows have a missing value in {', '.join(map(repr, used))}"
            if len(frame)
            else "the data have no rows"
        )
    evaluator = Evaluator(frame)
    keep = None if n_missing == 0 else ~missing
    variables: dict[Expr, Variable] = {}
    for variable in formula.variables():
        variables[variable] = take(evaluator.variable(variable, _where(formula, variable)), keep)
    data = frame if keep is None else frame.loc[keep, used]
    return ModelData(variables, ~missing, data, n_missing)


def response_values(formula: ModelFormula, frame: pd.DataFrame, variables: Mapping[Expr, Variable]) -> np.ndarray:
    """The response of a linear mixed model on the evaluated rows (numeric, one column, finite).

    Raises
    ------
    DataError
    """
    expr = formula.response
    value = variables[expr]
    label = expr.name if isinstance(expr, Name) else expr.text
    if isinstance(expr, Name):
        dtype = frame[expr.name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            raise DataError(f"the response {label!r} is boolean: a linear mixed model needs a numeric response")
        if not isinstance(value, Numeric):
            raise DataError(f"the response {label!r} is not numeric (it has type {dtype})")
    if not isinstance(value, Numeric) or value.k != 1:
        raise DataError(f"the response {label!r} is not one numeric column")
    y = value.values[:, 0]
    if not np.all(np.isfinite(y)):
        raise DataError(f"the response {label!r} has {int((~np.isfinite(y)).sum())} non-finite values")
    return np.ascontiguousarray(y)


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


def offset_values(formula: ModelFormula, variables: Mapping[Expr, Variable], n: int) -> np.ndarray | None:
    """The sum of the formula's ``offset()`` terms on the evaluated rows (None without any)."""
    if not formula.fixed.offsets:
        return None
    total = np.zeros(n)
    for expr in formula.fixed.offsets:
        value = variables[expr]
        if not isinstance(value, Numeric) or value.k != 1:
            raise DataError(f"the offset {expr.text} is not one numeric column")
        check_values(value.values, (f"offset({expr.text})",), "offset")
        total += value.values[:, 0]
    return total


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
        Refuse, as lme4 does, a random-effects term whose grouping factor has one level
        or as many levels as observations (or as many random effects as observations);
        and a response that the fixed part reproduces exactly (:mod:`lmmdx.design.exact`).
        The diagnosis turns this off to explain such models instead.
    fixed_only : bool
        Accept a formula without random-effects terms (a design with no blocks), for
        the ordinary least-squares null models of likelihood-ratio tests.
    family : str, optional
        ``"binomial"`` or ``"poisson"``: the response is read as glmer reads it
        (:mod:`lmmdx.design.response`), observation-level random effects are allowed, and the
        offset is kept apart from ``y``.

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
    md = model_data(formula, frame)
    data, variables = md.data, md.variables
    n = len(data)
    label = formula.response_label
    weights = None
    if family is None:
        y = response_values(formula, frame, variables)
        check_response(y, label)
    else:
        read = glm_response(formula, variables, family)
        y, weights = read.y, read.weights
    offset = offset_values(formula, variables, n)
    fixed = fixed_effects(formula.fixed, variables, n)
    if fixed.X.shape[1] >= y.shape[0]:
        raise DataError(
            f"the fixed part has {fixed.X.shape[1]} columns (aliased ones dropped) but there are only "
            f"{y.shape[0]} observations: nothing is left to estimate the variances; simplify the fixed part"
        )
    if check_identifiable and formula.random and family is None:
        share = unexplained_share(fixed.X, y if offset is None else y - offset, "(Intercept)" in fixed.names)
        if share is not None and share < EXACT_FIT_SHARE:
            raise DataError(exact_fit_message(label, share))
    blocks: list[ReBlock] = []
    for term in formula.random:
        factor = grouping_factor(data, term.group)
        lhs = model_matrix(term.lhs, variables, n, f"random term {term.text}")
        check_values(lhs.values, lhs.names, f"random term {term.text}")
        if lhs.values.shape[1] == 0:
            raise FormulaError(f"the random term {term.text} has no columns")
        effects = tuple(INTERCEPT if a == 0 else term.lhs.terms[a - 1].label for a in lhs.assign)
        check_repeated(blocks, term, lhs.names)
        blocks.append(ReBlock(term, factor, lhs.names, lhs.values, effects))
    if check_identifiable:
        check_levels(blocks, n, glmm=family is not None)
    blocks.sort(key=lambda b: -b.nlevels)
    if offset is not None and family is None:
        y = y - offset
    return Design(formula, y, fixed, tuple(blocks), md.n_missing, data.index.to_numpy(), frame, offset, family,
                  weights)


def check_repeated(blocks: list[ReBlock], term: RandomTerm, names: tuple[str, ...]) -> None:
    """Refuse a random effect given twice for one grouping factor (e.g. ``(1 | g) + (1 | g)``):
    only the sum of its two variances is identifiable, and the optimiser would search a ridge."""
    for block in blocks:
        if block.term.group == term.group:
            shared = [c for c in names if c in block.columns]
            if shared:
                raise FormulaError(
                    f"the random terms {block.term.text} and {term.text} both give {term.group_name} a random "
                    f"{shared[0]}: its variance cannot be split between them; write each random effect once"
                )


def check_levels(blocks: list[ReBlock], n: int, glmm: bool = False) -> None:
    """lme4's per-term checks: at least two levels, fewer levels than observations.

    Each term must also have fewer random effects (levels × columns) than observations
    (lme4's ``check.nobs.vs.nRE``). A total number of random effects at or above the number
    of observations is not refused
    (lme4 fits the split-plot model ``(1 | id) + (1 | id:a) + (1 | id:b)`` whose levels
    add up to the observations); the diagnosis reports it.
    """
    for block in blocks:
        if block.nlevels < 2:
            raise DataError(
                f"grouping factor {block.group!r} has only one level in the data used: a variance "
                f"between its levels cannot be estimated (lme4 refuses this too); drop {block.term.text} "
                "or use a factor with several levels"
            )
        if glmm:  # observation-level random effects are identifiable in a GLMM (no residual variance)
            continue
        if block.nlevels >= n:
            raise DataError(
                f"grouping factor {block.group!r} has as many levels ({block.nlevels}) as observations: "
                f"the variance of {block.term.text} cannot be told apart from the residual variance "
                "(lme4 refuses this too); run `lmmdx diagnose` for an explanation"
            )
        if block.nlevels * block.k >= n:
            raise DataError(
                f"the random term {block.term.text} has {block.nlevels * block.k} random effects "
                f"({block.nlevels} levels × {block.k}) but there are only {n} observations (lme4 refuses this "
                "too); drop a random slope or run `lmmdx diagnose` for an explanation"
            )


def variable_kinds(variables: Mapping[Expr, Variable]) -> dict[Expr, bool]:
    """Whether each variable is categorical."""
    return {expr: isinstance(value, Categorical) for expr, value in variables.items()}
