"""The terms of the fixed part: which columns of X each term owns, its variables, and the
over-parameterised ("complete") coding that lmerTest's type III contrasts start from.

R's ``terms()`` object in Python: ``recipe * temperature`` has the terms ``recipe``,
``temperature`` and ``recipe:temperature``; ``recipe`` is a factor, ``temperature``
a covariate. The complete coding (lmerTest's ``get_rdX``) codes every term with all
levels of its factors (``model.matrix(~ 0 + term)``), plus a constant column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .design import Design, _prepare, used_columns
from .matrix import _parse, lme4_name, model_matrix

__all__ = ["FixedTerm", "FixedTerms", "fixed_terms"]


@dataclass(frozen=True, slots=True)
class FixedTerm:
    """One term of the fixed part (the intercept is not a term, as in R).

    Attributes
    ----------
    label : str
        ``"recipe:temperature"``.
    variables : frozenset of str
        The factors (in R's sense: a column or an expression such as ``I(x^2)``)
        that the term multiplies.
    factors : frozenset of str
        Those of ``variables`` that are categorical.
    columns : tuple of int
        Indices of the term's columns in the design's (full-rank) X.
    """

    label: str
    variables: frozenset[str]
    factors: frozenset[str]
    columns: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FixedTerms:
    """The term structure of a design's fixed part.

    Attributes
    ----------
    terms : tuple of FixedTerm
        In formula order (lower orders first, as R sorts them).
    intercept : bool
        X has an intercept column.
    complete : ndarray, shape (n, r)
        The complete (over-parameterised) coding: a constant column when there is an
        intercept, then every term with all levels of its factors.
    complete_names : tuple of str, length r
        lme4-style names of ``complete``'s columns.
    """

    terms: tuple[FixedTerm, ...]
    intercept: bool
    complete: np.ndarray
    complete_names: tuple[str, ...]

    def order(self, term: FixedTerm) -> int:
        """The order of a term: how many variables it multiplies."""
        return len(term.variables)

    def containing(self, term: FixedTerm) -> tuple[FixedTerm, ...]:
        """Terms that contain ``term`` in R's sense (lmerTest's ``containment``).

        ``F2`` contains ``F1`` when every variable of ``F1`` is in ``F2``, ``F2`` has
        more variables, and all of its extra variables are factors.
        """
        out = []
        for other in self.terms:
            extra = other.variables - term.variables
            if term.variables <= other.variables and extra and extra <= other.factors:
                out.append(other)
        return tuple(out)


def _model_rows(design: Design) -> pd.DataFrame:
    """The rows and columns the design was built from (missing values dropped)."""
    used = used_columns(design.formula, design.frame)
    grouping = {name for term in design.formula.random for name in term.group}
    data, _ = _prepare(design.frame, used, grouping)
    return data


def fixed_terms(design: Design) -> FixedTerms:
    """The terms of ``design``'s fixed part and their complete coding.

    Raises
    ------
    DataError
        When formulaic cannot re-evaluate the fixed part on the model's rows.
    """
    data = _model_rows(design)
    rhs = design.formula.fixed
    try:
        spec = _parse(rhs)[0].get_model_matrix(data, na_action="ignore").model_spec
    except Exception as exc:  # noqa: BLE001 - formulaic raises many unrelated types
        raise DataError(f"cannot evaluate the fixed part {rhs!r} for its terms: {exc}") from None
    kinds = {name: state[0] for name, state in spec.encoder_state.items()}
    index = {name: j for j, name in enumerate(design.fixed.names)}
    terms: list[FixedTerm] = []
    intercept = "(Intercept)" in index
    blocks = [np.ones((len(data), 1))] if intercept else []
    names: list[str] = ["(Intercept)"] if intercept else []
    for term, columns in spec.term_indices.items():
        exprs = [str(f.expr) for f in term.factors if str(f.expr) != "1"]
        if not exprs:
            continue
        variables = frozenset(exprs)
        labels = [lme4_name(str(spec.column_names[c])) for c in columns]
        kept = tuple(index[label] for label in labels if label in index)
        factors = frozenset(v for v in variables if str(kinds.get(v, "")).endswith("CATEGORICAL"))
        label = ":".join(exprs)
        terms.append(FixedTerm(label, variables, factors, kept))
        complete = model_matrix(f"0 + {label}", data, "fixed part")
        blocks.append(complete.values)
        names.extend(complete.names)
    matrix = np.column_stack(blocks) if blocks else np.zeros((len(data), 0))
    return FixedTerms(tuple(terms), intercept, matrix, tuple(names))
