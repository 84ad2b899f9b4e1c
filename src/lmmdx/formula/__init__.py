"""lme4 formulas: parse ``response ~ fixed + (lhs | group)`` into :class:`ModelFormula`.

Pure string processing: nothing in this package imports numpy, pandas or formulaic.
"""

from lmmdx.formula.parse import parse_formula
from lmmdx.formula.terms import ModelFormula, RandomTerm

__all__ = ["ModelFormula", "RandomTerm", "parse_formula"]
