"""Model matrices of right-hand sides (fixed part, random-term left-hand sides) via formulaic.

Column names are rewritten the way lme4 prints them: ``(Intercept)``,
``recipeB``, ``recipeB:temperature``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import formulaic
import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError

__all__ = ["ModelMatrix", "model_matrix", "required_columns"]

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


def _formulaic_text(rhs: str) -> str:
    """Translate R's ``^`` to Python's ``**`` (formulaic evaluates I() with Python)."""
    return rhs.replace("^", "**")


@lru_cache(maxsize=512)
def _formula(rhs: str) -> formulaic.Formula:
    """formulaic's parse of ``rhs`` (cached: parsing is pure and costs more than a small fit)."""
    return formulaic.Formula(_formulaic_text(rhs))


def required_columns(rhs: str, where: str) -> set[str]:
    """Columns a right-hand side needs, as formulaic reads them.

    Raises
    ------
    FormulaError
        When formulaic cannot parse ``rhs`` (``where`` says which part of the formula it is).
    """
    plain = _plain_names(rhs)
    if plain is not None:
        return set(plain)
    try:
        return set(_formula(rhs).required_variables)
    except Exception as exc:  # noqa: BLE001 - formulaic raises many unrelated types on bad syntax
        raise FormulaError(f"cannot read the {where} {rhs!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _plain_names(rhs: str) -> list[str] | None:
    """The column names of ``rhs`` when it is only ``1``/``0`` plus plain column names."""
    parts = [p.strip() for p in rhs.split("+")]
    if parts[0] not in ("0", "1") or len(set(parts)) != len(parts):
        return None
    names = parts[1:]
    if not all(_PLAIN_TERM.match(name) for name in names):
        return None
    return names


def _plain_numeric(rhs: str, frame: pd.DataFrame) -> list[str] | None:
    """The column names of ``rhs`` when it is only ``1``/``0`` and plain numeric columns."""
    names = _plain_names(rhs)
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
        mm = _formula(rhs).get_model_matrix(frame, na_action="ignore")
    except Exception as exc:  # noqa: BLE001 - formulaic and the transforms it calls raise anything
        raise DataError(f"cannot evaluate the {where} {rhs!r}: {_first_line(exc)}") from None
    values = np.asarray(mm.to_numpy(), dtype=np.float64)
    if values.shape[0] != len(frame):
        raise DataError(f"the {where} {rhs!r} did not give one row per observation")
    return ModelMatrix(values, tuple(lme4_name(str(c)) for c in mm.columns))
