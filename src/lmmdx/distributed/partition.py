"""One partition of an out-of-core fit, evaluated by the in-memory code.

Each partition is evaluated by :func:`lmmdx.design.model_data` (the formula's allow-listed
evaluator and its missing-value rule), :func:`~lmmdx.design.matrix.model_matrix` (R's coding) and
:func:`~lmmdx.design.grouping.grouping_factor`, exactly as :func:`~lmmdx.design.build_design`
evaluates a whole table. What must be the same in every partition — the levels of each factor and
grouping factor, hence the columns of X and the codes of Z — comes from the *pad*: one row per
level of every categorical variable and grouping factor over the whole data (found by a first pass,
:func:`representatives`), put in front of each partition and left out of its sums. A factor
evaluated on the padded partition has every level of the data, in the order the evaluator gives
them (which is the in-memory order), and the pad also lets R's "more columns than rows" rule see
at least as many rows as there are columns.

Functions that look at every row of the data (``scale()``, ``poly()`` without ``raw = TRUE``)
would see only a partition, so an out-of-core fit refuses them (:func:`row_dependent_calls`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..design import Design
from ..design.design import model_data, offset_values, response_values
from ..design.evaluate import Categorical
from ..design.fixed import FixedEffects
from ..design.grouping import GroupingFactor, grouping_factor
from ..design.matrix import check_values, model_matrix
from ..design.random import ReBlock
from ..engine import Blocks, cross_products
from ..engine.scaling import Scaling
from ..errors import FormulaError
from ..formula.expr import Call, Expr, Name
from ..formula.functions import BOOLEANS, bind
from ..formula.terms import INTERCEPT, ModelFormula
from ..model import engine_terms

__all__ = [
    "Moments",
    "Part",
    "Plan",
    "RowStats",
    "partition_blocks",
    "partition_design",
    "partition_residuals",
    "partition_stats",
    "representatives",
    "row_dependent_calls",
]

#: Functions whose value at a row depends on the other rows (and ``poly`` unless ``raw = TRUE``).
_WHOLE_COLUMN = ("scale", "poly")


def row_dependent_calls(formula: ModelFormula) -> list[str]:
    """The calls of ``formula`` whose values depend on every row of the data (``scale(x)``, ``poly(x, 2)``)."""
    found: list[str] = []

    def walk(expr: Expr) -> None:
        if isinstance(expr, Call) and expr.function in _WHOLE_COLUMN:
            raw = bind(expr).get("raw")
            if not (isinstance(raw, Name) and BOOLEANS.get(raw.name, False)):
                found.append(expr.text)
        for child in expr.children():
            walk(child)

    for variable in formula.variables():
        walk(variable)
    return list(dict.fromkeys(found))


def _first_rows(codes: np.ndarray) -> np.ndarray:
    return np.unique(codes, return_index=True)[1]


def representatives(formula: ModelFormula, frame: pd.DataFrame) -> pd.DataFrame:
    """One complete row (the first) per level of each categorical variable and grouping factor.

    Parameters
    ----------
    formula : ModelFormula
    frame : DataFrame
        The columns the formula uses.

    Returns
    -------
    DataFrame
        Rows of ``frame`` in their order, index reset (empty when no row is complete).
    """
    if frame.empty or not bool(frame.notna().all(axis=1).any()):
        return frame.iloc[:0].reset_index(drop=True)
    md = model_data(formula, frame.reset_index(drop=True))
    first: list[np.ndarray] = [_first_rows(v.codes) for v in md.variables.values() if isinstance(v, Categorical)]
    first += [_first_rows(grouping_factor(md.data, term.group).codes) for term in formula.random]
    rows = np.unique(np.concatenate(first)) if first else np.arange(min(1, len(md.data)))
    return md.data.iloc[rows].reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class Plan:
    """What every partition needs: the formula, the pad and (once known) the columns of X kept.

    Attributes
    ----------
    formula : ModelFormula
    pad : DataFrame
        One row per level of every factor of the data (:func:`representatives`), repeated to at least
        as many rows as the widest model matrix; index −1, −2, ... (left out of every sum).
    keep : ndarray of bool or None
        The columns of X that are not aliased (None: all, before the checks have run).
    scaling : Scaling or None
        The internal scaling of the whole data (for the blocks' pass).
    """

    formula: ModelFormula
    pad: pd.DataFrame
    keep: np.ndarray | None = None
    scaling: Scaling | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """A partition's design before the checks of the whole data.

    Attributes
    ----------
    design : Design
        The partition's rows (pad left out), every column of X (``keep`` applied when the plan has one),
        blocks with the data's levels, sorted as in :func:`~lmmdx.design.build_design`.
    response : ndarray
        The response as read (before the offset is subtracted), for the response's checks.
    x_all : ndarray
        X before aliased columns are dropped, and its names.
    x_names : tuple of str
    """

    design: Design
    response: np.ndarray
    x_all: np.ndarray
    x_names: tuple[str, ...]


def _finite(values: np.ndarray, names: tuple[str, ...], where: str) -> None:
    """The non-finite part of :func:`check_values` (magnitudes are checked over the whole data)."""
    check_values(np.where(np.isfinite(values), 1.0, values), names, where)


def partition_design(plan: Plan, frame: pd.DataFrame) -> Part:
    """Evaluate the formula on one partition (after the pad), the pad's rows left out.

    Raises
    ------
    DataError, FormulaError
        As :func:`~lmmdx.design.build_design` raises them for these rows (non-finite values,
        types), with the partition's counts.
    """
    formula = plan.formula
    pad = plan.pad
    padded = pd.concat([pad, frame.reset_index(drop=True)], ignore_index=False)
    md = model_data(formula, padded)
    n = len(md.data)
    rows = np.asarray(md.data.index) >= 0
    variables = md.variables
    response = response_values(formula, padded, variables)
    offset = offset_values(formula, variables, n)
    matrix = model_matrix(formula.fixed, variables, n, "fixed part")
    x_all = np.ascontiguousarray(matrix.values[rows])
    _finite(x_all, matrix.names, "fixed-effects")
    keep = plan.keep if plan.keep is not None else np.ones(len(matrix.names), dtype=bool)
    names = tuple(name for name, k in zip(matrix.names, keep, strict=True) if k)
    dropped = tuple(name for name, k in zip(matrix.names, keep, strict=True) if not k)
    fixed = FixedEffects(np.ascontiguousarray(x_all[:, keep]), names, dropped)
    blocks: list[ReBlock] = []
    for term in formula.random:
        factor = grouping_factor(md.data, term.group)
        lhs = model_matrix(term.lhs, variables, n, f"random term {term.text}")
        if lhs.values.shape[1] == 0:
            raise FormulaError(f"the random term {term.text} has no columns")
        values = np.ascontiguousarray(lhs.values[rows])
        _finite(values, lhs.names, f"random term {term.text}")
        effects = tuple(INTERCEPT if a == 0 else term.lhs.terms[a - 1].label for a in lhs.assign)
        blocks.append(ReBlock(term, GroupingFactor(factor.name, factor.codes[rows], factor.levels), lhs.names,
                              values, effects))
    blocks.sort(key=lambda b: -b.nlevels)
    y = response[rows]
    part_offset = None if offset is None else offset[rows]
    design = Design(formula, y if part_offset is None else y - part_offset, fixed, tuple(blocks), md.n_missing,
                    np.asarray(md.data.index[rows]), frame.iloc[:0], part_offset)
    return Part(design, y, x_all, matrix.names)


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, mean, sum of squared deviations, minimum and maximum of the columns of an (n, k) array.

    Merged with Chan, Golub and LeVeque's pairwise update, so that partitions combine without
    the cancellation of raw sums of squares.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        k = values.shape[1]
        if values.shape[0] == 0:
            return cls(0, np.zeros(k), np.zeros(k), np.full(k, np.inf), np.full(k, -np.inf))
        mean = values.mean(axis=0)
        return cls(int(values.shape[0]), mean, ((values - mean) ** 2).sum(axis=0), values.min(axis=0),
                   values.max(axis=0))

    def merge(self, other: Moments) -> Moments:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.n * other.n / n)
        return Moments(n, mean, m2, np.minimum(self.low, other.low), np.maximum(self.high, other.high))

    def synthetic(self) -> np.ndarray:
        """Two rows with these columns' mean, spread about the mean and root mean square (and equal
        rows for a constant column): what the internal scaling reads from a column."""
        spread = np.sqrt(self.m2 / max(self.n, 1))
        constant = self.low == self.high
        low = np.where(constant, self.low, self.mean - spread)
        high = np.where(constant, self.low, self.mean + spread)
        return np.vstack([low, high])

    def extremes(self) -> np.ndarray:
        """Two rows, the columns' minima and maxima: what the magnitude checks read."""
        return np.vstack([self.low, self.high])


@dataclass(frozen=True, slots=True)
class RowStats:
    """What the checks and the scaling of the whole data need from one partition.

    Attributes
    ----------
    n_missing : int
    response, y : Moments
        The response as read, and the response minus the offset (what the engine fits).
    x : Moments
        Every column of X (before aliased ones are dropped).
    terms : tuple of Moments
        The left-hand-side columns of each random term (blocks' order).
    r : ndarray, shape (p + 1, p + 1)
        The triangular factor of the QR decomposition of ``[X y]``: ``RᵀR = [X y]ᵀ[X y]``, and the
        same column geometry as ``[X y]`` (norms, residuals), at the precision of a QR of the rows.
    """

    n_missing: int
    response: Moments
    y: Moments
    x: Moments
    terms: tuple[Moments, ...]
    r: np.ndarray

    def merge(self, other: RowStats) -> RowStats:
        stacked = np.vstack([self.r, other.r])
        r = _r_factor(stacked)
        return RowStats(self.n_missing + other.n_missing, self.response.merge(other.response),
                        self.y.merge(other.y), self.x.merge(other.x),
                        tuple(a.merge(b) for a, b in zip(self.terms, other.terms, strict=True)),
                        _square(r, self.r.shape[1]))


def _r_factor(rows: np.ndarray) -> np.ndarray:
    """The triangular factor of a QR decomposition of ``rows`` (no rows: none)."""
    if not rows.shape[0]:
        return np.zeros((0, rows.shape[1]))
    return np.asarray(np.linalg.qr(rows, mode="r"))


def _square(r: np.ndarray, width: int) -> np.ndarray:
    """``r`` padded with zero rows to (width, width) (a QR of fewer rows than columns is short)."""
    if r.shape[0] >= width:
        return r[:width]
    return np.vstack([r, np.zeros((width - r.shape[0], width))])


def partition_stats(plan: Plan, frame: pd.DataFrame) -> RowStats:
    """The first numeric pass over a partition: moments, extremes and the QR factor of ``[X y]``."""
    part = partition_design(plan, frame)
    design = part.design
    xy = np.column_stack([part.x_all, design.y])
    r = _r_factor(xy)
    return RowStats(design.n_missing, Moments.of(part.response[:, None]), Moments.of(design.y[:, None]),
                    Moments.of(part.x_all), tuple(Moments.of(b.values) for b in design.blocks),
                    _square(r, xy.shape[1]))


def partition_blocks(plan: Plan, frame: pd.DataFrame) -> tuple[Blocks, int]:
    """The cross-product blocks of one partition's rows, on the whole data's internal scale."""
    assert plan.scaling is not None and plan.keep is not None
    design = partition_design(plan, frame).design
    scaling = plan.scaling
    y_int = (design.y - getattr(scaling, "y_shift", 0.0)) / scaling.y_scale
    terms = engine_terms(design, scaling)
    blocks = cross_products(y_int, design.X @ scaling.x_transform, terms)
    return blocks, design.n_missing


def partition_residuals(plan: Plan, beta: np.ndarray, modes: tuple[np.ndarray, ...],
                        frame: pd.DataFrame) -> Moments:
    """Moments of the residuals (response − fitted, conditional modes included) of one partition."""
    design = partition_design(plan, frame).design
    fitted = design.X @ beta
    for block, b in zip(design.blocks, modes, strict=True):
        fitted = fitted + np.einsum("ij,ij->i", block.values, b[block.factor.codes])
    return Moments.of((design.y - fitted)[:, None])


def with_keep(plan: Plan, keep: np.ndarray, scaling: Scaling) -> Plan:
    """The plan of the passes after the checks."""
    return replace(plan, keep=keep, scaling=scaling)
