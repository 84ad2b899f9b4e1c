"""Numerics: cross-product blocks, the profiled criterion over θ, the optimiser.

Plain functions of arrays: no pandas, no files, no printing.
"""

from .crossprod import Blocks, TermData, cross_products
from .deviance import DevianceParts, ProfiledDeviance, Solution, criterion
from .optimize import OPTIMIZERS, OptTrace, Tolerances, minimize
from .theta import ThetaLayout

__all__ = [
    "OPTIMIZERS",
    "Blocks",
    "DevianceParts",
    "OptTrace",
    "ProfiledDeviance",
    "Solution",
    "TermData",
    "ThetaLayout",
    "Tolerances",
    "criterion",
    "cross_products",
    "minimize",
]
