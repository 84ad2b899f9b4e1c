"""Re-writings of a model and its data that must not change the optimum.

Each :class:`Variant` is the same statistical model written differently: rows
permuted, random terms or the columns inside a random term reordered, numeric
covariates rescaled or sign-flipped, grouping levels relabelled, the reference
level of a categorical predictor changed. Each is a linear reparametrisation of
the fixed and random effects, so every estimate maps back exactly (see
:mod:`lmmdx.invariance.compare`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..design import Design
from ..design.evaluate import columns_read
from ..formula.terms import ModelFormula, RandomTerm

__all__ = ["SCALE_FACTORS", "Variant", "variants"]

#: Covariate scale changes tried (issue 7: invariance from ×1e-3 to ×1e3).
SCALE_FACTORS = (1e3, 1e-3)


@dataclass(frozen=True, slots=True)
class Variant:
    """One re-writing of a model and its data.

    Attributes
    ----------
    name : str
        Short machine name (``"rows"``, ``"scale_x1000"``).
    description : str
        What was changed, in words.
    formula : ModelFormula
    frame : DataFrame
        The re-written data; its index holds the row positions in the original data.
    """

    name: str
    description: str
    formula: ModelFormula
    frame: pd.DataFrame


def _reorder_term(term: RandomTerm) -> RandomTerm | None:
    """The term with the columns of its left-hand side in reverse order (intercept kept first, and
    terms still sorted by order, as R's ``terms()`` keeps them)."""
    if len(term.lhs.terms) < 2:
        return None
    return replace(term, lhs=term.lhs.with_terms(term.lhs.terms[::-1]))


def _covariates(formula: ModelFormula, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns of the fixed part and the random terms' left-hand sides.

    Numeric columns that also group are left out (rescaling would relabel their levels).
    """
    grouping = set(formula.groups())
    response = set(columns_read(formula.response, frame.columns, "response"))
    names: set[str] = set()
    for variable in formula.variables():
        if variable != formula.response:
            names |= set(columns_read(variable, frame.columns, "formula"))
    numeric, categorical = [], []
    for name in sorted(names - response):
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            categorical.append(name)
        elif name not in grouping:
            numeric.append(name)
    return numeric, categorical


def _rotated_levels(column: pd.Series) -> pd.Categorical | None:
    if pd.api.types.is_bool_dtype(column.dtype):
        text = column.map({True: "TRUE", False: "FALSE"})
        return pd.Categorical(text, categories=["TRUE", "FALSE"])
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = list(column.cat.categories)
    else:
        levels = sorted(column.dropna().astype(str).unique())
        column = column.where(column.isna(), column.astype(str))
    if len(levels) < 2:
        return None
    return pd.Categorical(column, categories=levels[1:] + levels[:1])


def _relabelled(column: pd.Series, rng: np.random.Generator) -> pd.Series:
    values = column.astype(str).where(column.notna())
    levels = sorted(values.dropna().unique())
    order = rng.permutation(len(levels))
    mapping = {level: f"L{int(code):05d}" for level, code in zip(levels, order, strict=True)}
    return values.map(mapping)


def variants(design: Design, seed: int = 0) -> Iterator[Variant]:
    """The re-writings of ``design``'s model that apply to it.

    Parameters
    ----------
    design : Design
        The design of the fit to check (its formula and source frame).
    seed : int
        Seed of the row permutation and of the new level labels.
    """
    rng = np.random.default_rng(seed)
    formula = design.formula
    frame = design.frame.reset_index(drop=True)
    yield Variant("rows", "rows in a random order", formula, frame.iloc[rng.permutation(len(frame))])
    if len(formula.random) > 1:
        yield Variant("random_terms", "random-effects terms in reverse order",
                      formula.edited(random=formula.random[::-1]), frame)
    reordered = [_reorder_term(term) for term in formula.random]
    if any(term is not None for term in reordered):
        terms = tuple(new or old for new, old in zip(reordered, formula.random, strict=True))
        yield Variant("inside_terms", "columns inside each random-effects term in reverse order",
                      formula.edited(random=terms), frame)
    numeric, categorical = _covariates(formula, frame)
    if numeric:
        for factor in SCALE_FACTORS:
            label = f"{factor:g}"
            yield Variant(f"scale_x{label}", f"numeric covariates ({', '.join(numeric)}) multiplied by {label}",
                          formula, frame.assign(**{n: frame[n] * factor for n in numeric}))
        yield Variant("sign", f"numeric covariates ({', '.join(numeric)}) with their sign flipped",
                      formula, frame.assign(**{n: -frame[n] for n in numeric}))
    rotated = {n: c for n in categorical if (c := _rotated_levels(frame[n])) is not None}
    if rotated:
        yield Variant("reference", f"another reference level for {', '.join(rotated)}",
                      formula, frame.assign(**rotated))
    used = set(numeric) | set(categorical)
    grouping = sorted({g for term in formula.random for g in term.group} - used)
    grouping = [g for g in grouping if g in frame.columns]
    if grouping:
        yield Variant("levels", f"levels of {', '.join(grouping)} relabelled and reordered",
                      formula, frame.assign(**{g: _relabelled(frame[g], rng) for g in grouping}))
