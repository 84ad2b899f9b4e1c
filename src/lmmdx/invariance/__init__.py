"""Invariance self-test: the same optimum however the model and data are written."""

from .check import (
    AGREEMENT_TOLERANCE,
    ESTIMATE_TOLERANCE,
    OBJECTIVE_TOLERANCE,
    InvarianceCheck,
    VariantOutcome,
    check_invariance,
)
from .compare import estimates, map_onto
from .variants import Variant, variants

__all__ = [
    "AGREEMENT_TOLERANCE",
    "ESTIMATE_TOLERANCE",
    "OBJECTIVE_TOLERANCE",
    "InvarianceCheck",
    "Variant",
    "VariantOutcome",
    "check_invariance",
    "estimates",
    "map_onto",
    "variants",
]
