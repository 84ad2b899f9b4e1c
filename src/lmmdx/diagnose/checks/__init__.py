"""The diagnosis checks, one per module, registered in :data:`registry.CHECKS` on import.

In report order (root causes in the design first):

===================  ===============================================================
``saturation``       effective degrees of freedom, residual variance identifiability
``support``          levels and within-level variation behind each grouping factor
``boundary``         singular fits: zero variances, correlations at ±1, rePCA
``redundancy``       likelihood-ratio test of each term's weakest dimension
``identifiability``  observed information over the variance–covariance parameters
``convergence``      optimiser status, scale-free gradient, Hessian over θ, bounds
``optimizers``       agreement of several optimisers and starting points, flat ridges
``fixed``            aliased, collinear or badly scaled fixed-effect columns
===================  ===============================================================
"""

from . import boundary, convergence, fixed, identifiability, optimizers, redundancy, saturation, support
from .registry import CHECKS, ORDER, Check, ordered, register

__all__ = [
    "CHECKS",
    "ORDER",
    "Check",
    "boundary",
    "convergence",
    "fixed",
    "identifiability",
    "optimizers",
    "ordered",
    "redundancy",
    "register",
    "saturation",
    "support",
]
