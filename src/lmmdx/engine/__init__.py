"""Numerics: cross-product blocks, the profiled criterion over θ, the optimiser.

Plain functions of arrays: no pandas, no files, no printing.
"""

from .crossprod import Blocks, TermData, cross_products
from .deviance import DevianceParts, ProfiledDeviance, Solution, criterion, criterion_at_sigma
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
    "criterion_at_sigma",
    "cross_products",
    "minimize",
]
