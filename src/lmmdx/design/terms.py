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

from ..formula.terms import Terms
from .design import Design, model_data
from .evaluate import Categorical
from .matrix import model_matrix


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


def fixed_terms(design: Design) -> FixedTerms:
    """The terms of ``design``'s fixed part and their complete coding.

    Raises
    ------
    DataError
        When the fixed part cannot be evaluated again on the design's data.
    """
    md = model_data(design.formula, design.frame)
    variables, n = md.variables, len(md.data)
    fixed = design.formula.fixed
    full = model_matrix(fixed, variables, n, "fixed part")
    index = {name: j for j, name in enumerate(design.fixed.names)}
    intercept = "(Intercept)" in index
    blocks = [np.ones((n, 1))] if intercept else []
    names: list[str] = ["(Intercept)"] if intercept else []
    terms: list[FixedTerm] = []
    for number, term in enumerate(fixed.terms, start=1):
        labels = [name for name, a in zip(full.names, full.assign, strict=True) if a == number]
        kept = tuple(index[label] for label in labels if label in index)
        variables_text = frozenset(v.text for v in term.variables)
        factors = frozenset(v.text for v in term.variables if isinstance(variables[v], Categorical))
        terms.append(FixedTerm(term.label, variables_text, factors, kept))
        complete = model_matrix(Terms(False, (term,)), variables, n, "fixed part")
        blocks.append(complete.values)
        names.extend(complete.names)
    matrix = np.column_stack(blocks) if blocks else np.zeros((n, 0))
    return FixedTerms(tuple(terms), intercept, matrix, tuple(names))
