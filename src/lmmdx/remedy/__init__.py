"""Remedies: turn an ill-posed model into defensible alternatives, fitted and compared side by side.

``remedies(fit)`` (or ``fit.remedies()``) proposes the zero-correlation, PCA-reduced,
maximal feasible, backward-selected and intercept-only models, a penalised fit with
blme's default prior, and two fixed-effects alternatives; fits them all on the rows
of the original fit; and returns a :class:`RemedyReport` with a sensitivity verdict
and a recommendation.
"""

from .compare import remedies
from .result import Candidate, EffectEstimate, RemedyReport, Sensitivity
from .structure import Structure, same_model, structure_of

__all__ = [
    "Candidate",
    "EffectEstimate",
    "RemedyReport",
    "Sensitivity",
    "Structure",
    "remedies",
    "same_model",
    "structure_of",
]
