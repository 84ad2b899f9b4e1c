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

from .anova import AnovaTable, anova
from .bootstrap import BootstrapResult, bootstrap, bootstrap_intervals
from .ddf import CoefTest, ContrastTest, coefficient_tests, contrast_test
from .honesty import WaldCheck, wald_check
from .intervals import Interval, Intervals, confint, wald_intervals
from .lrt import Comparison, compare
from .ols import OlsFit, fit_ols
from .profile import ProfileTrace, profile, profile_intervals

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
