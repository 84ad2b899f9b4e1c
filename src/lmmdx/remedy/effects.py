"""The effects of interest under each candidate: estimate, SE, df, 95% CI and p-value.

Mixed models (REML, ML and penalised) are tested with Satterthwaite's df as lmerTest
does (:class:`lmmdx.inference.ddf.Tester`; for the penalised fit, from the curvature
of the penalised criterion); the least-squares alternatives with their own df.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from ..errors import LmmdxError
from ..inference.ddf import Tester
from ..result import Fit
from .fixed import OlsAlternative
from .result import EffectEstimate

__all__ = ["effect_estimate", "missing", "mixed_effects", "ols_effects"]


def effect_estimate(term: str, value: float, se: float, df: float, p: float | None = None) -> EffectEstimate:
    """The effect with its 95% t interval (normal when df is unknown) and, unless given, its t test's p."""
    if not (math.isfinite(value) and math.isfinite(se) and se > 0):
        nan = float("nan")
        return EffectEstimate(term, value, se, df, nan, nan, nan)
    finite = math.isfinite(df) and df > 0
    half = (float(special.stdtrit(df, 0.975)) if finite else float(special.ndtri(0.975))) * se
    if p is None:
        z = -abs(value / se)
        p = 2.0 * (float(special.stdtr(df, z)) if finite else float(special.ndtr(z)))
    return EffectEstimate(term, value, se, df, value - half, value + half, p)


def mixed_effects(
    fit: Fit, terms: tuple[str, ...], penalty: Callable[[np.ndarray], float] | None = None
) -> tuple[EffectEstimate, ...]:
    """Satterthwaite t tests of the effects (of the penalised criterion when ``penalty`` is given)."""
    try:
        tests = {t.term: t for t in Tester(fit, "satterthwaite", penalty).coefficients()}
    except (LmmdxError, np.linalg.LinAlgError, ValueError):
        tests = {}
    nan = float("nan")
    out = []
    for term in terms:
        if term in tests:
            t = tests[term]
            out.append(effect_estimate(term, t.estimate, t.std_error, t.df, t.p_value))
        elif term in fit.fixed_names:
            j = fit.fixed_names.index(term)
            out.append(effect_estimate(term, float(fit.beta[j]), float(fit.std_errors[j]), nan))
        else:
            out.append(effect_estimate(term, nan, nan, nan))
    return tuple(out)


def ols_effects(ols: OlsAlternative, terms: tuple[str, ...]) -> tuple[EffectEstimate, ...]:
    se = np.sqrt(np.diag(ols.vcov))
    nan = float("nan")
    out = []
    for term in terms:
        if term in ols.names:
            i = ols.names.index(term)
            out.append(effect_estimate(term, float(ols.beta[i]), float(se[i]), float(ols.df[i])))
        else:
            out.append(effect_estimate(term, nan, nan, nan))
    return tuple(out)


def missing(terms: tuple[str, ...]) -> tuple[EffectEstimate, ...]:
    """The effects of a candidate that could not be fitted (all NaN)."""
    nan = float("nan")
    return tuple(effect_estimate(t, nan, nan, nan) for t in terms)
