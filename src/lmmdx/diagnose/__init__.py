"""Diagnose a mixed model: why it does not converge or is singular, what the data cannot identify, what to do.

>>> diagnosis = fit.diagnose()                                    # doctest: +SKIP
>>> print(diagnosis.summary())                                    # doctest: +SKIP
>>> [f.code for f in diagnosis.findings]                          # doctest: +SKIP

Each check is one module of :mod:`lmmdx.diagnose.checks`, registered by name.
"""

from .finding import ACTIONS, SEVERITIES, Diagnosis, Finding, Remedy
from .run import diagnose, diagnose_design
from .tables import (
    FactorSupport,
    InformationSummary,
    OptimizerRun,
    ParameterCombination,
    SlopeSupport,
    VarianceComponent,
)

__all__ = [
    "ACTIONS",
    "SEVERITIES",
    "Diagnosis",
    "FactorSupport",
    "Finding",
    "InformationSummary",
    "OptimizerRun",
    "ParameterCombination",
    "Remedy",
    "SlopeSupport",
    "VarianceComponent",
    "diagnose",
    "diagnose_design",
]
