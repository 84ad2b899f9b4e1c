"""Model matrices of right-hand sides (fixed part, random-term left-hand sides) via formulaic.

Column names are rewritten the way lme4 prints them: ``(Intercept)``,
``recipeB``, ``recipeB:temperature``. A right-hand side of plain numeric columns
(``1 + Days``) is taken directly and formulaic is not even imported (it costs a
command's start-up more than the fit).
"""

from __future__ import annotations

import keyword
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError, LmmdxError
from ..formula.lexer import BACKTICK, NAME, tokenize

if TYPE_CHECKING:
    import formulaic

__all__ = ["MAX_MAGNITUDE", "MIN_MAGNITUDE", "ModelMatrix", "check_values", "model_matrix", "required_columns"]

#: Largest magnitude accepted in a model column: squares of larger values come close to
#: overflowing float64 (largest ≈ 1.8e308) in the cross-products and the response's scale.
MAX_MAGNITUDE = 1e150
#: A non-zero column whose largest magnitude is below this has squares that underflow to 0.
MIN_MAGNITUDE = 1e-150

_LEVEL = re.compile(r"\[(?:T\.)?([^\[\]]*)\]")
_PLAIN_TERM = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True, slots=True)
class ModelMatrix:
    """A dense model matrix and its lme4-style column names.

    Attributes
    ----------
    values : ndarray of float64, shape (n, k)
    names : tuple of str, length k
    """

    values: np.ndarray
    names: tuple[str, ...]


def lme4_name(name: str) -> str:
    """Rewrite a formulaic column name as lme4 prints it."""
    if name == "Intercept":
        return "(Intercept)"
    return _LEVEL.sub(lambda m: m.group(1), name)


def _needs_quotes(name: str) -> bool:
    """R names that Python (hence formulaic) reads otherwise: ``x.1``, ``.x``, keywords."""
    return not name.isidentifier() or keyword.iskeyword(name)


def _formulaic_text(rhs: str) -> tuple[str, set[str]]:
    """``rhs`` as formulaic reads it, and the R names that had to be quoted.

    R's ``^`` becomes Python's ``**`` (formulaic evaluates ``I()`` with Python), and
    names such as ``Sepal.Length`` that are not Python identifiers are put in
    backticks unless they are called (``np.log(x)``).
    """
    tokens = tokenize(rhs)
    pieces, quoted, at = [], set(), 0
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        called = following is not None and following.is_op("(", "=")
        replacement = None
        if token.is_op("^"):
            replacement = "**"
        elif token.kind == NAME and not called and _needs_quotes(token.text):
            replacement = f"`{token.text}`"
            quoted.add(token.text)
        elif token.kind == BACKTICK and "." in token.text:
            quoted.add(token.text[1:-1])
        if replacement is not None:
            pieces += [rhs[at : token.pos], replacement]
            at = token.end
    pieces.append(rhs[at:])
    return "".join(pieces), quoted


def _plain_names(rhs: str) -> set[str]:
    """Names that occur unquoted in ``rhs`` (as variables, not calls)."""
    return {t.text for t in tokenize(rhs) if t.kind == NAME}


@lru_cache(maxsize=512)
def _parse(rhs: str) -> tuple[formulaic.Formula, frozenset[str]]:
    """formulaic's parse of ``rhs`` and the columns it needs.

    Cached: parsing is pure and costs more than fitting a small model.
    """
    import formulaic

    text, quoted = _formulaic_text(rhs)
    formula = formulaic.Formula(text)
    names = set(formula.required_variables)
    if quoted:
        # formulaic reports `x.1` as the variable x: put the quoted names back
        plain = _plain_names(rhs)
        names -= {name.split(".")[0] for name in quoted} - plain
        names |= quoted
    return formula, frozenset(names)


def required_columns(rhs: str, where: str) -> set[str]:
    """Columns a right-hand side needs, as formulaic reads them.

    Raises
    ------
    FormulaError
        When formulaic cannot parse ``rhs`` (``where`` says which part of the formula it is).
    """
    plain = _plain_parts(rhs if rhs.strip()[:1] in ("0", "1") else f"0 + {rhs}")  # a response: one name
    if plain is not None:
        return set(plain)
    try:
        return set(_parse(rhs)[1])
    except LmmdxError:
        raise
    except Exception as exc:  # noqa: BLE001 - formulaic raises many unrelated types on bad syntax
        raise FormulaError(f"cannot read the {where} {rhs!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@lru_cache(maxsize=512)
def _plain_parts(rhs: str) -> tuple[str, ...] | None:
    """The column names of ``rhs`` when it is ``1`` or ``0`` followed by plain (or backticked) names."""
    parts = [p.strip() for p in rhs.split("+")]
    if parts[0] not in ("0", "1") or len(set(parts)) != len(parts):
        return None
    names = tuple(p[1:-1] if len(p) > 2 and p[0] == p[-1] == "`" else p for p in parts[1:])
    for name, part in zip(names, parts[1:], strict=True):
        if not (_PLAIN_TERM.match(part) or (part != name and "`" not in name)):
            return None
    return names


def _plain_numeric(rhs: str, frame: pd.DataFrame) -> tuple[str, ...] | None:
    """The column names of ``rhs`` when it is only ``1``/``0`` and plain numeric columns."""
    names = _plain_parts(rhs)
    if names is None:
        return None
    for name in names:
        if name not in frame.columns:
            return None
        dtype = frame[name].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
            return None
    return names


def model_matrix(rhs: str, frame: pd.DataFrame, where: str) -> ModelMatrix:
    """Materialise ``rhs`` (``"1 + x + f"``) on ``frame``.

    Plain numeric columns are taken directly; anything else goes through formulaic
    with treatment coding (first level as reference).

    Raises
    ------
    DataError
        When formulaic cannot evaluate a term on these data.
    """
    plain = _plain_numeric(rhs, frame)
    if plain is not None:
        columns = ([np.ones(len(frame))] if rhs.strip().startswith("1") else []) + [
            frame[name].to_numpy(dtype=np.float64) for name in plain
        ]
        values = np.column_stack(columns) if columns else np.empty((len(frame), 0))
        names = (("(Intercept)",) if rhs.strip().startswith("1") else ()) + tuple(plain)
        return ModelMatrix(np.ascontiguousarray(values, dtype=np.float64), names)
    try:
        # log(0), sqrt(-1) and the like give non-finite values, reported by the design
        # with the column's name; numpy's own RuntimeWarning would only add noise.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mm = _parse(rhs)[0].get_model_matrix(frame, na_action="ignore")
    except Exception as exc:  # noqa: BLE001 - formulaic and the transforms it calls raise anything
        raise DataError(f"cannot evaluate the {where} {rhs!r}: {_first_line(exc)}") from None
    values = np.asarray(mm.to_numpy(), dtype=np.float64)
    if values.shape[0] != len(frame):
        raise DataError(f"the {where} {rhs!r} did not give one row per observation")
    return ModelMatrix(values, tuple(lme4_name(str(c)) for c in mm.columns))


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
