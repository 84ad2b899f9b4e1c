"""Evaluate a formula's variables on data, through the allow-list and nothing else.

This is the one evaluation path of lmmdx: every variable of a model (response, fixed
terms, offsets, left-hand sides of random terms) is an expression tree
(:mod:`lmmdx.formula.expr`) evaluated here. A :class:`~lmmdx.formula.expr.Name` is a
column looked up in the data frame (or, inside arithmetic, one of R's constants such as
``pi`` when there is no such column); a call runs the numpy code of its entry in
:data:`~lmmdx.formula.functions.FUNCTIONS`; nothing else exists. Numbers are float64, so
``I(9^9^9)`` is ``inf`` (refused as not finite) rather than an endless integer power.

Variables are evaluated on every row of the data, as R's ``model.frame`` does before it
drops rows with missing values: ``scale(x)`` and ``poly(x, 2)`` use every non-missing
value of ``x``, as lme4 does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from ..formula.expr import Binary, Call, Expr, Name, Number, Paren, String, Unary, format_number
from ..formula.functions import BOOLEANS, CONSTANTS, CONTRASTS, FUNCTIONS, MATH, NUMPY_MATH, bind, value_names

__all__ = ["Categorical", "Evaluator", "Numeric", "Variable", "columns_read", "take"]


@dataclass(frozen=True, slots=True)
class Numeric:
    """A numeric variable: one column, or several (``poly(x, 2)``).

    Attributes
    ----------
    values : ndarray of float64, shape (n, k)
    colnames : tuple of str or None
        R's column names of a matrix variable (``("1", "2")`` for ``poly``); None for
        a plain variable (a single column is named after the variable).
    """

    values: np.ndarray
    colnames: tuple[str, ...] | None = None

    @property
    def k(self) -> int:
        """Number of columns."""
        return int(self.values.shape[1])


@dataclass(frozen=True, slots=True)
class Categorical:
    """A categorical variable (R's factor).

    Attributes
    ----------
    codes : ndarray of int64, shape (n,)
        Level of each row, -1 where missing.
    levels : tuple of str
    ordered : bool
        An ordered factor (polynomial contrasts by default, as in R).
    contrast : str or None
        ``treatment``, ``sum``, ``helmert``, ``poly`` or ``SAS``; None for R's default.
    """

    codes: np.ndarray
    levels: tuple[str, ...]
    ordered: bool = False
    contrast: str | None = None

    @property
    def contrast_kind(self) -> str:
        """The contrasts used when the factor is coded by contrasts."""
        if self.contrast is not None:
            return self.contrast
        return "poly" if self.ordered else "treatment"


Variable = Numeric | Categorical


def take(variable: Variable, rows: np.ndarray | None) -> Variable:
    """The variable on a subset of rows; a factor keeps only the levels that occur (lme4's
    ``drop.unused.levels``)."""
    if isinstance(variable, Numeric):
        return variable if rows is None else Numeric(variable.values[rows], variable.colnames)
    codes = variable.codes if rows is None else variable.codes[rows]
    used = np.zeros(len(variable.levels), dtype=bool)
    present = codes[codes >= 0]
    used[present] = True
    if used.all():
        return variable if rows is None else Categorical(codes, variable.levels, variable.ordered, variable.contrast)
    renumber = np.cumsum(used) - 1
    new = np.where(codes >= 0, renumber[np.maximum(codes, 0)], -1).astype(np.int64)
    levels = tuple(level for level, keep in zip(variable.levels, used, strict=True) if keep)
    return Categorical(new, levels, variable.ordered, variable.contrast)


# -- values inside the evaluator ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Num:
    """Numbers: a column (shape (n,)) or a constant (shape ()); NaN is missing."""

    values: np.ndarray
    logical: bool = False
    integer: bool = False

    @property
    def constant(self) -> bool:
        return self.values.ndim == 0


@dataclass(frozen=True, slots=True)
class _Text:
    """Strings: a column (object array, None missing) or a constant."""

    values: np.ndarray | str


_Value = _Num | _Text | Numeric | Categorical


def _label(value: object, integer: bool) -> str:
    """A level label as R writes it (``1``, ``2.5``, ``1e+05``, ``TRUE``)."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if integer or isinstance(value, (int, np.integer)):
        return str(int(value))  # type: ignore[call-overload]
    if isinstance(value, (float, np.floating)):
        return format_number(float(value))
    return str(value)


def columns_read(expr: Expr, columns: pd.Index, where: str) -> list[str]:
    """The columns an expression reads: its names in value positions.

    A name that is not a column is one of R's constants (``pi``, ``TRUE``) when it has
    that spelling; arguments that are constants by their parameter (``center = FALSE``,
    ``contr.sum``) are not read.

    Raises
    ------
    DataError
        A name that is neither a column nor a constant (``where`` names the part of the formula).
    """
    out: list[str] = []
    for name in value_names(expr):
        if name in columns:
            out.append(name)
        elif name not in CONSTANTS:
            raise _unknown(name, columns, where)
    return out


def _unknown(name: str, columns: pd.Index, where: str) -> DataError:
    known = ", ".join(map(str, list(columns)[:20]))
    more = f" and {len(columns) - 20} more" if len(columns) > 20 else ""
    return DataError(f"unknown column {name!r} in the {where}; the data have: {known}{more}")


class Evaluator:
    """Evaluates the variables of one formula on one data frame (each expression once).

    Parameters
    ----------
    frame : DataFrame
        The data, every row (rows with missing values are dropped by the design afterwards).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        self._cache: dict[Expr, _Value] = {}
        self._columns: dict[str, _Value] = {}

    # -- public -------------------------------------------------------------------------------------
    def variable(self, expr: Expr, where: str) -> Variable:
        """The variable ``expr`` as a model-matrix input: numbers, or a factor.

        Raises
        ------
        DataError
            Unknown column, a constant, values of the wrong type for a function.
        """
        value = self.evaluate(expr, where)
        if isinstance(value, (Numeric, Categorical)):
            return value
        if isinstance(value, _Text):
            if isinstance(value.values, str):
                raise DataError(f"{expr.text} in the {where} is a constant string, not a variable")
            return _factor_of_text(value.values, ordered=False)
        if value.constant:
            number = float(value.values)
            if not math.isfinite(number):
                raise DataError(f"{expr.text} in the {where} evaluates to {format_number(number)}: "
                                "not finite (and a constant, not a variable)")
            raise DataError(f"{expr.text} in the {where} is the constant {format_number(number)}, not a variable "
                            "(the intercept is already in the model)")
        if value.logical:
            return _logical_factor(value.values)
        return Numeric(value.values.reshape(-1, 1))

    def evaluate(self, expr: Expr, where: str) -> _Value:
        """The value of any expression (cached per expression)."""
        cached = self._cache.get(expr)
        if cached is None:
            with np.errstate(all="ignore"):
                cached = self._eval(expr, where)
            self._cache[expr] = cached
        return cached

    # -- nodes -----------------------------------------------------------------------------------------
    def _eval(self, expr: Expr, where: str) -> _Value:
        if isinstance(expr, Name):
            return self._name(expr.name, where)
        if isinstance(expr, Number):
            return _Num(np.asarray(expr.value, dtype=np.float64), integer=expr.integer)
        if isinstance(expr, String):
            return _Text(expr.value)
        if isinstance(expr, Paren):
            return self.evaluate(expr.inner, where)
        if isinstance(expr, Unary):
            operand = self._numbers(self.evaluate(expr.operand, where), expr.operand, expr.op)
            return _Num(-operand if expr.op == "-" else operand)
        if isinstance(expr, Binary):
            return self._binary(expr, where)
        if isinstance(expr, Call):
            return self._call(expr, where)
        raise FormulaError(f"not an expression lmmdx can evaluate: {type(expr).__name__}")

    def _name(self, name: str, where: str) -> _Value:
        if name in self._columns:
            return self._columns[name]
        if name not in self.frame.columns:
            if name in CONSTANTS:
                return _Num(np.asarray(CONSTANTS[name], dtype=np.float64), logical=name in BOOLEANS)
            raise _unknown(name, self.frame.columns, where)
        value = _column_value(self.frame[name], name)
        self._columns[name] = value
        return value

    def _numbers(self, value: _Value, expr: Expr, what: str) -> np.ndarray:
        """The values of a numeric operand (a logical is 0/1; one-column matrices are vectors)."""
        if isinstance(value, _Num):
            return value.values
        if isinstance(value, Numeric):
            if value.k != 1:
                raise DataError(f"{expr.text} has {value.k} columns: {what} needs a single column")
            return value.values[:, 0]
        kind = "categorical" if isinstance(value, Categorical) else "text"
        raise DataError(f"{expr.text} is {kind}: {what} needs numbers (use as.numeric() for a factor's codes)")

    def _binary(self, expr: Binary, where: str) -> _Value:
        op = expr.op
        left = self.evaluate(expr.left, where)
        right = self.evaluate(expr.right, where)
        if op in ("==", "!=") and (_is_text(left) or _is_text(right)):
            a, b = _as_text(left), _as_text(right)
            equal = _text_equal(a, b)
            return _Num(equal if op == "==" else np.where(np.isnan(equal), np.nan, 1.0 - equal), logical=True)
        a = self._numbers(left, expr.left, f"'{op}'")
        b = self._numbers(right, expr.right, f"'{op}'")
        if op in _COMPARE:
            result = _COMPARE[op](a, b).astype(np.float64)
            return _Num(np.where(np.isnan(a) | np.isnan(b), np.nan, result), logical=True)
        return _Num(np.asarray(_ARITHMETIC[op](a, b), dtype=np.float64))

    def _call(self, expr: Call, where: str) -> _Value:
        sig = FUNCTIONS.get(expr.function)
        if sig is None:  # a tree built by hand: the parser refuses these with their position
            raise FormulaError(f"unknown function {expr.function!r}")
        args = bind(expr)
        x_expr = args["x"]
        x = self.evaluate(x_expr, where)
        role = sig.role
        if role == "identity":
            return x
        if role == "math":
            return self._math(expr, x, x_expr, args)
        if role == "scale":
            return self._scale(expr, x, x_expr, args)
        if role == "poly":
            return self._poly(expr, x, x_expr, args)
        if role in ("factor", "ordered", "relevel", "contrast"):
            return self._factor(expr, x, x_expr, args, role)
        if role == "character":
            return self._character(expr, x, x_expr)
        if role in ("numeric", "integer", "offset"):
            values = self._as_numbers(expr, x, x_expr)
            return _Num(np.trunc(values) if role == "integer" else values)
        if role == "cbind":  # two numeric columns (a binomial response: successes, failures)
            y_expr = args["y"]
            second = self._as_numbers(expr, self.evaluate(y_expr, where), y_expr)
            first = self._as_numbers(expr, x, x_expr)
            return Numeric(np.column_stack([np.broadcast_to(first, (self.n,)), np.broadcast_to(second, (self.n,))]),
                           (x_expr.text, y_expr.text))
        raise FormulaError(f"unknown function {expr.function!r}")

    # -- functions ---------------------------------------------------------------------------------------
    def _math(self, expr: Call, x: _Value, x_expr: Expr, args: dict[str, Expr]) -> _Value:
        name = expr.function
        ufunc = _UFUNCS[name]
        if isinstance(x, Numeric) and x.k > 1:
            return Numeric(ufunc(x.values), x.colnames)
        values = self._numbers(x, x_expr, f"{name}()")
        if name == "log" and "base" in args:
            out = np.log(values) / math.log(_constant(args["base"]))
        elif name == "round":
            out = np.round(values, int(_constant(args["digits"])) if "digits" in args else 0)
        else:
            out = ufunc(values)
        return _Num(np.asarray(out, dtype=np.float64))

    def _scale(self, expr: Call, x: _Value, x_expr: Expr, args: dict[str, Expr]) -> _Value:
        center = _flag(args.get("center"), True)
        scale = _flag(args.get("scale"), True)
        if isinstance(x, Numeric):
            values, colnames = x.values.copy(), x.colnames
        else:
            values, colnames = self._numbers(x, x_expr, "scale()").reshape(-1, 1).copy(), None
        if values.ndim != 2 or values.shape[0] != self.n:
            raise DataError(f"{expr.text}: scale() needs a column of the data, not a constant")
        for j in range(values.shape[1]):
            column = values[:, j]
            present = ~np.isnan(column)
            if center:
                column -= np.mean(column[present]) if present.any() else 0.0
            if scale:
                v = column[present]
                spread = math.sqrt(float(v @ v) / max(1, v.size - 1)) if v.size else 0.0
                if spread == 0.0:
                    raise DataError(f"{expr.text}: {x_expr.text} has the same value in every row, so it "
                                    "cannot be scaled (its SD is 0)")
                column /= spread
        return Numeric(values, colnames)

    def _poly(self, expr: Call, x: _Value, x_expr: Expr, args: dict[str, Expr]) -> _Value:
        degree = int(_constant(args["degree"])) if "degree" in args else 1
        raw = _flag(args.get("raw"), False)
        values = self._numbers(x, x_expr, "poly()")
        if values.ndim == 0:
            raise DataError(f"{expr.text}: poly() needs a column of the data, not a constant")
        present = ~np.isnan(values)
        xs = values[present]
        out = np.full((values.size, degree), np.nan)
        if raw:
            out[present] = xs[:, None] ** np.arange(1, degree + 1)
        else:
            distinct = np.unique(xs).size
            if degree >= distinct:
                raise DataError(f"{expr.text}: the degree must be less than the number of distinct values "
                                f"of {x_expr.text} ({distinct})")
            out[present] = orthogonal_polynomials(xs, degree)
        return Numeric(out, tuple(str(d) for d in range(1, degree + 1)))

    def _factor(self, expr: Call, x: _Value, x_expr: Expr, args: dict[str, Expr], role: str) -> _Value:
        if isinstance(x, Categorical):
            dropped = take(x, None)  # factor() drops unused levels and any contrasts set before
            assert isinstance(dropped, Categorical)
            factor = Categorical(dropped.codes, dropped.levels, dropped.ordered, None)
        elif isinstance(x, _Text) and not isinstance(x.values, str):
            factor = _factor_of_text(x.values, ordered=False)
        elif isinstance(x, _Num) and not x.constant:
            factor = _factor_of_numbers(x.values, x.logical, x.integer)
        else:
            raise DataError(f"{expr.text}: {x_expr.text} is not a column that can be made categorical")
        if role == "ordered":
            return Categorical(factor.codes, factor.levels, True, None)
        if role == "relevel":
            if factor.ordered:
                raise DataError(f"{expr.text}: relevel() is for unordered factors (as in R)")
            ref_expr = args["ref"]
            ref = ref_expr.value if isinstance(ref_expr, String) else format_number(_constant(ref_expr))
            if ref not in factor.levels:
                raise DataError(f"{expr.text}: {ref!r} is not a level of {x_expr.text} "
                                f"(its levels: {', '.join(factor.levels[:10])})")
            first = factor.levels.index(ref)
            order = [first] + [i for i in range(len(factor.levels)) if i != first]
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes = np.where(factor.codes >= 0, rank[np.maximum(factor.codes, 0)], -1)
            return Categorical(codes, tuple(factor.levels[i] for i in order), False, None)
        if role == "contrast":
            contr = args.get("contr")
            kind = "treatment"
            if isinstance(contr, Name):
                kind = CONTRASTS[contr.name]
            elif isinstance(contr, String):
                kind = CONTRASTS[contr.value]
            return Categorical(factor.codes, factor.levels, factor.ordered, kind)
        return factor

    def _character(self, expr: Call, x: _Value, x_expr: Expr) -> _Value:
        """R's ``as.character``: numbers written as R writes them, a factor's labels, text as it is."""
        if isinstance(x, _Text):
            return x
        if isinstance(x, Categorical):
            labels = np.asarray([*x.levels, None], dtype=object)
            return _Text(labels[x.codes])
        if isinstance(x, _Num) and not x.constant:
            if x.logical:
                labels = np.asarray(["FALSE", "TRUE", None], dtype=object)
                return _Text(labels[np.where(np.isnan(x.values), 2, x.values != 0).astype(np.int64)])
            return _Text(np.asarray([None if np.isnan(v) else _label(float(v), x.integer and v == int(v))
                                     for v in x.values], dtype=object))
        raise DataError(f"{expr.text}: {x_expr.text} is not a column")

    def _as_numbers(self, expr: Call, x: _Value, x_expr: Expr) -> np.ndarray:
        if isinstance(x, Categorical):
            return np.where(x.codes >= 0, x.codes + 1.0, np.nan)
        if isinstance(x, _Text) and not isinstance(x.values, str):
            parsed = pd.to_numeric(pd.Series(x.values, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
            bad = np.isnan(parsed) & pd.notna(x.values)
            if bad.any():
                first = x.values[np.nonzero(bad)[0][0]]
                raise DataError(f"{expr.text}: {int(bad.sum())} values of {x_expr.text} are not numbers "
                                f"(the first: {first!r})")
            return parsed
        values = self._numbers(x, x_expr, f"{expr.function}()")
        if values.ndim == 0:
            raise DataError(f"{expr.text} needs a column of the data, not a constant")
        return values


def orthogonal_polynomials(x: np.ndarray, degree: int) -> np.ndarray:
    """R's ``poly(x, degree)``: the QR decomposition of the centred Vandermonde matrix.

    Column ``d`` is the part of ``(x - mean(x))^d`` orthogonal to the lower powers,
    scaled to unit length (R's ``Z = qr.qy(QR, diag(R)) / sqrt(colSums(Z^2))``, which is
    ``Q`` with the sign of ``R``'s diagonal).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Finite values with more than ``degree`` distinct ones.
    degree : int

    Returns
    -------
    ndarray, shape (n, degree)
    """
    centred = x - np.mean(x)
    vandermonde = centred[:, None] ** np.arange(degree + 1)
    q, r = np.linalg.qr(vandermonde)
    z = q * np.sign(np.diag(r))
    z /= np.sqrt(np.sum(z * z, axis=0))
    return np.ascontiguousarray(z[:, 1:])


# -- helpers -----------------------------------------------------------------------------------------
_UFUNCS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    **{name: getattr(np, ufunc) for name, ufunc in MATH.items()},
    **{prefix + name: getattr(np, name) for prefix in ("np.", "numpy.") for name in NUMPY_MATH},
    "round": np.round,
}

_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal, "==": np.equal,
    "!=": np.not_equal,
}
_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "^": np.power,
    "%%": np.mod, "%/%": np.floor_divide,
}


def _constant(expr: Expr) -> float:
    if isinstance(expr, Unary) and isinstance(expr.operand, Number):
        return -expr.operand.value if expr.op == "-" else expr.operand.value
    if isinstance(expr, Number):
        return expr.value
    raise FormulaError(f"{expr.text} is not a number")


def _flag(expr: Expr | None, default: bool) -> bool:
    if expr is None:
        return default
    if isinstance(expr, Name) and expr.name in BOOLEANS:
        return BOOLEANS[expr.name]
    raise FormulaError(f"{expr.text} is not TRUE or FALSE")


def _is_text(value: _Value) -> bool:
    return isinstance(value, (_Text, Categorical))


def _as_text(value: _Value) -> np.ndarray | str:
    if isinstance(value, _Text):
        return value.values
    if isinstance(value, Categorical):
        labels = np.asarray(value.levels + (None,), dtype=object)
        return labels[value.codes]
    if isinstance(value, _Num) and value.constant:
        return format_number(float(value.values))
    raise DataError("a comparison of text with numbers")


def _text_equal(a: np.ndarray | str, b: np.ndarray | str) -> np.ndarray:
    left = np.asarray(a, dtype=object)
    right = np.asarray(b, dtype=object)
    equal = np.asarray(left == right, dtype=np.float64)
    missing = pd.isna(left) | pd.isna(right) if (left.ndim or right.ndim) else np.asarray(False)
    return np.where(missing, np.nan, equal)


def _logical_factor(values: np.ndarray) -> Categorical:
    """A logical variable as R's model matrices code it: a factor with levels FALSE and TRUE."""
    codes = np.where(np.isnan(values), -1, values != 0).astype(np.int64)
    return Categorical(codes, ("FALSE", "TRUE"))


def _factor_of_numbers(values: np.ndarray, logical: bool, integer: bool) -> Categorical:
    present = ~np.isnan(values)
    uniques, inverse = np.unique(values[present], return_inverse=True)
    labels = [("TRUE" if u else "FALSE") if logical else _label(float(u), integer and u == int(u))
              for u in uniques]
    levels = tuple(dict.fromkeys(labels))  # two numbers that print alike are one level, as in R
    position = {label: i for i, label in enumerate(levels)}
    mapped = np.asarray([position[label] for label in labels], dtype=np.int64)
    codes = np.full(values.size, -1, dtype=np.int64)
    codes[present] = mapped[inverse] if mapped.size else inverse
    return Categorical(codes, levels)


def _factor_of_text(values: np.ndarray, ordered: bool) -> Categorical:
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
    labels = [str(u) for u in uniques]
    order = sorted(range(len(labels)), key=labels.__getitem__)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    out = np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(order) else 0, -1).astype(np.int64)
    return Categorical(out, tuple(labels[i] for i in order), ordered)


def _column_value(column: pd.Series, name: str) -> _Value:
    """A data column as the evaluator sees it: numbers, a logical, text or a factor."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if isinstance(dtype, np.dtype):
            return _Num(column.to_numpy(dtype=np.float64), logical=True)
        return _Num(column.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan), logical=True)
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        integer = pd.api.types.is_integer_dtype(categories.dtype)
        labels = tuple(_label(c, integer) for c in categories)
        return Categorical(column.cat.codes.to_numpy(dtype=np.int64), labels, bool(dtype.ordered))
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise DataError(
            f"column {name!r} holds dates or durations: convert it to a number (e.g. days since the "
            "first date) or to text for a categorical predictor"
        )
    if pd.api.types.is_numeric_dtype(dtype):
        integer = pd.api.types.is_integer_dtype(dtype)
        if isinstance(dtype, np.dtype):
            values = column.to_numpy(dtype=np.float64)
        else:  # nullable Int64, Float64, arrow numbers
            values = column.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        return _Num(values, integer=integer)
    text = np.array(column.to_numpy(dtype=object), dtype=object)
    missing = pd.isna(text)
    text[missing] = None
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):  # mixed: numbers written as R would
        text = np.asarray([v if v is None or isinstance(v, str) else _label(v, False) for v in text], dtype=object)
    return _Text(text)
