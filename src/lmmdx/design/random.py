"""Random-effects terms on data: the Z block of one term ``(lhs | g)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formula.terms import RandomTerm
from .grouping import GroupingFactor

__all__ = ["ReBlock"]


@dataclass(frozen=True, slots=True)
class ReBlock:
    """The data of one random-effects term.

    Row ``i`` of Z for this term has the ``k`` values ``values[i]`` in the columns
    of level ``factor.codes[i]`` and zeros elsewhere; Z's columns are level-major
    (all ``k`` columns of level 0, then of level 1, ...), as in lme4.

    Attributes
    ----------
    term : RandomTerm
        The parsed term.
    factor : GroupingFactor
        Its grouping factor.
    columns : tuple of str
        Names of the ``k`` columns of the left-hand side, e.g. ``("(Intercept)", "Days")``.
    values : ndarray of float64, shape (n, k)
        The left-hand-side model matrix.
    effects : tuple of str
        The left-hand side's term each column belongs to (``"1"`` for the intercept,
        ``"x"``, ``"f"`` for every column of a factor); empty when not known.
    """

    term: RandomTerm
    factor: GroupingFactor
    columns: tuple[str, ...]
    values: np.ndarray
    effects: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of random effects per level."""
        return len(self.columns)

    @property
    def nlevels(self) -> int:
        """Number of levels of the grouping factor."""
        return self.factor.nlevels

    @property
    def group(self) -> str:
        """Name of the grouping factor."""
        return self.factor.name
