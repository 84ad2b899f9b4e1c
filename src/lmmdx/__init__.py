"""lmmdx: linear mixed-effects models with lme4 formulas, and a diagnosis of why they fail.

>>> import lmmdx
>>> result = lmmdx.fit("Reaction ~ Days + (Days | Subject)", data)   # doctest: +SKIP
>>> print(result.summary())                                          # doctest: +SKIP
"""

from .errors import DataError, FitError, FormulaError, LmmdxError, LmmdxWarning
from .fit import Fit
from .fitting import fit

__version__ = "0.1.0"

__all__ = ["DataError", "Fit", "FitError", "FormulaError", "LmmdxError", "LmmdxWarning", "__version__", "fit"]
