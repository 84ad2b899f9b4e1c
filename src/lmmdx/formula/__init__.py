"""lme4 formulas: parse ``response ~ fixed + (lhs | group)`` into :class:`ModelFormula`.

Pure string processing: nothing in this package imports numpy, pandas or formulaic.
A formula is parsed once into these values; variables are expression trees
(:mod:`.expr`) whose functions come from an allow-list (:mod:`.functions`).
"""

from lmmdx.formula.expr import Binary, Call, Expr, Name, Number, Paren, String, Unary, quote_name
from lmmdx.formula.functions import FUNCTIONS, allowed_functions_text
from lmmdx.formula.parse import parse_formula
from lmmdx.formula.terms import INTERCEPT, ModelFormula, RandomTerm, Term, Terms

__all__ = [
    "FUNCTIONS",
    "INTERCEPT",
    "Binary",
    "Call",
    "Expr",
    "ModelFormula",
    "Name",
    "Number",
    "Paren",
    "RandomTerm",
    "String",
    "Term",
    "Terms",
    "Unary",
    "allowed_functions_text",
    "parse_formula",
    "quote_name",
]
