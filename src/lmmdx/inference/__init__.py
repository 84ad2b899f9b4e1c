"""Inference that stays honest near the boundary.

* :mod:`.ddf` — t and F tests of fixed effects with Satterthwaite (:mod:`.satterthwaite`)
  or Kenward–Roger (:mod:`.kenward_roger`) df, for coefficients and contrast matrices;
* :mod:`.anova` — type III and type I ANOVA tables (as lmerTest);
* :mod:`.lrt` — likelihood-ratio tests of nested models with chi-bar-square
  (:mod:`.structure`) and bootstrap p-values; :mod:`.ols` for null models without
  random effects;
* :mod:`.intervals` — Wald intervals and the ``confint`` dispatch; :mod:`.profile` —
  profile-likelihood intervals; :mod:`.bootstrap` — parametric bootstrap;
* :mod:`.honesty` — when Wald inference is not to be trusted, and what to say.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .anova import AnovaTable, anova
    from .bootstrap import BootstrapResult, bootstrap, bootstrap_intervals
    from .ddf import CoefTest, ContrastTest, coefficient_tests, contrast_test
    from .honesty import WaldCheck, wald_check
    from .intervals import Interval, Intervals, confint, wald_intervals
    from .lrt import Comparison, compare
    from .ols import OlsFit, fit_ols
    from .profile import ProfileTrace, profile, profile_intervals

#: Public name → submodule that defines it, loaded on first use (a fit's t tests need
#: neither the bootstrap nor the profile, and their imports cost a command's start-up).
_LAZY = {
    "AnovaTable": "anova", "anova": "anova",
    "BootstrapResult": "bootstrap", "bootstrap": "bootstrap", "bootstrap_intervals": "bootstrap",
    "CoefTest": "ddf", "ContrastTest": "ddf", "coefficient_tests": "ddf", "contrast_test": "ddf",
    "WaldCheck": "honesty", "wald_check": "honesty",
    "Interval": "intervals", "Intervals": "intervals", "confint": "intervals", "wald_intervals": "intervals",
    "Comparison": "lrt", "compare": "lrt",
    "OlsFit": "ols", "fit_ols": "ols",
    "ProfileTrace": "profile", "profile": "profile", "profile_intervals": "profile",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnovaTable",
    "BootstrapResult",
    "CoefTest",
    "Comparison",
    "ContrastTest",
    "Interval",
    "Intervals",
    "OlsFit",
    "ProfileTrace",
    "WaldCheck",
    "anova",
    "bootstrap",
    "bootstrap_intervals",
    "coefficient_tests",
    "compare",
    "confint",
    "contrast_test",
    "fit_ols",
    "profile",
    "profile_intervals",
    "wald_check",
    "wald_intervals",
]
