"""lmmdx: linear mixed-effects models with lme4 formulas, and a diagnosis of why they fail.

>>> import lmmdx
>>> result = lmmdx.fit("Reaction ~ Days + (Days | Subject)", data)   # doctest: +SKIP
>>> print(result.summary())                                          # doctest: +SKIP

``fit.diagnose()`` explains why a fit is (or is not) trustworthy; the checks live in
the :mod:`lmmdx.diagnose` package (whose name is not shadowed by a function here).

The public names are loaded on first use, so ``lmmdx --help`` does not pay for
numpy, scipy and pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import DataError, FitError, FormulaError, LmmdxError, LmmdxWarning

if TYPE_CHECKING:
    from .batch import fit_many
    from .diagnose import Diagnosis
    from .finding import Finding, Remedy
    from .fitting import fit
    from .inference.lrt import compare
    from .remedy import RemedyReport
    from .result import Fit

__version__ = "0.1.0"

#: Public name → module that defines it.
_LAZY = {
    "fit": "lmmdx.fitting",
    "Fit": "lmmdx.result",
    "fit_many": "lmmdx.batch",
    "Finding": "lmmdx.finding",
    "Remedy": "lmmdx.finding",
    "Diagnosis": "lmmdx.diagnose",
    "compare": "lmmdx.inference.lrt",
    "RemedyReport": "lmmdx.remedy",
}

__all__ = [
    "DataError",
    "Diagnosis",
    "Finding",
    "Fit",
    "FitError",
    "FormulaError",
    "LmmdxError",
    "LmmdxWarning",
    "Remedy",
    "RemedyReport",
    "__version__",
    "compare",
    "fit",
    "fit_many",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lmmdx' has no attribute {name!r}")
