"""Confidence intervals: the record, Wald intervals, and the dispatch of ``Fit.confint``.

Wald intervals for β use t quantiles with Satterthwaite (or Kenward–Roger) df, or
normal quantiles as lme4's ``confint(method = "Wald")`` does (``ddf=None``). Wald
intervals for SDs, correlations and σ use the delta method on the asymptotic
covariance of ``(θ, σ)`` (``2 H⁻¹``, as for Satterthwaite); they are clipped to the
parameter space and flagged, since exactly there the approximation fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ..arguments import check_level
from ..errors import LmmdxError
from .ddf import Tester, ddf_method
from .derivatives import jacobian
from .honesty import WaldCheck, wald_check
from .parameters import edge_side, fit_parameters, parameters, sdcor

if TYPE_CHECKING:
    import pandas as pd

    from ..result import Fit

__all__ = ["METHODS", "Interval", "Intervals", "confint", "wald_intervals"]

METHODS = ("wald", "profile", "bootstrap")


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval for one parameter.

    Attributes
    ----------
    parameter : str
        lme4's ``confint`` name (see :mod:`.parameters`).
    estimate : float
        The fit's estimate.
    lower, upper : float
    method : str
        ``"wald"``, ``"profile"`` or ``"bootstrap"``.
    reliable : bool
        False when the interval rests on an approximation that the fit breaks
        (a Wald interval of a singular fit, or one clipped at the boundary).
    note : str
        Why it is not reliable, or how a limit was found (``"at the boundary"``).
    """

    parameter: str
    estimate: float
    lower: float
    upper: float
    method: str
    reliable: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class Intervals:
    """Confidence intervals for the parameters of a fit.

    Attributes
    ----------
    method : str
    level : float
    intervals : tuple of Interval
        In lme4's ``confint`` order: SDs and correlations, sigma, fixed effects.
    notes : tuple of str
        What the reader should know (ML refit for profiles, bootstrap failures, ...).
    """

    method: str
    level: float
    intervals: tuple[Interval, ...]
    notes: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Interval:
        for interval in self.intervals:
            if interval.parameter == name:
                return interval
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in order."""
        return tuple(i.parameter for i in self.intervals)

    def to_frame(self) -> pd.DataFrame:
        """The intervals as a DataFrame indexed by parameter (lme4's percent column names)."""
        import pandas as pd

        a = (1.0 - self.level) / 2.0
        return pd.DataFrame(
            [[i.estimate, i.lower, i.upper, i.reliable] for i in self.intervals],
            index=list(self.names),
            columns=["estimate", f"{100 * a:.3g} %", f"{100 * (1 - a):.3g} %", "reliable"],
        )

    def __str__(self) -> str:
        from ..report.inference import intervals_text

        return "\n".join(intervals_text(self))


def _flag(interval: Interval, check: WaldCheck) -> Interval:
    if check.broken:
        note = "; ".join(n for n in (check.short, interval.note) if n)
        return replace(interval, reliable=False, note=note)
    return interval


def wald_intervals(
    fit: Fit, level: float = 0.95, ddf: str | None = "satterthwaite", tester: Tester | None = None
) -> Intervals:
    """Wald intervals for every parameter (delta method for the variance parameters).

    Parameters
    ----------
    fit : Fit
    level : float
    ddf : str or None
        df of the t quantiles for β (``"satterthwaite"`` or ``"kenward-roger"``);
        None or ``"none"`` for normal quantiles, as lme4.
    tester : Tester, optional
        Reuse one with the Hessian already computed (its method then gives the df).
    """
    level = check_level(level)
    method = ddf_method(ddf)
    tester = tester or Tester(fit, "satterthwaite" if method == "none" else method)
    info = tester.information
    check = wald_check(fit, info.eigenvalues)
    z = float(special.ndtri(0.5 + level / 2.0))
    layout = fit.model.deviance.layout
    params = parameters(fit.model)
    values = fit_parameters(fit)
    nvar = layout.ntheta + 1
    grad = jacobian(lambda vp: sdcor(layout, vp[:-1], float(vp[-1])), info.varpar)
    se_var = np.sqrt(np.maximum(np.einsum("ik,kl,il->i", grad, info.vcov_varpar, grad), 0.0))
    terms = fit.boundary
    out = []
    for par in params[:nvar]:
        est, se = float(values[par.index]), float(se_var[par.index])
        if not np.isfinite(est):
            out.append(Interval(par.name, est, np.nan, np.nan, "wald", False,
                                "undefined: the SD of one of its effects is zero"))
            continue
        if edge_side(par, est, terms) or not se > 0:
            out.append(Interval(par.name, est, np.nan, np.nan, "wald", False,
                                "no Wald interval at the edge of the parameter space; use the profile"))
            continue
        lo, hi = est - z * se, est + z * se
        interval = Interval(par.name, est, max(lo, par.lower_bound), min(hi, par.upper_bound), "wald")
        if lo < par.lower_bound or hi > par.upper_bound:
            interval = replace(interval, reliable=False, note="clipped at the edge of the parameter space")
        out.append(_flag(interval, check))
    tests = tester.coefficients() if method != "none" else None
    for par in params[nvar:]:
        j = par.col
        se = float(np.sqrt(fit.vcov_beta[j, j]))
        q = z if tests is None else float(special.stdtrit(tests[j].df, 0.5 + level / 2.0))
        se = se if tests is None else tests[j].std_error
        est = float(fit.beta[j])
        out.append(_flag(Interval(par.name, est, est - q * se, est + q * se, "wald"), check))
    notes = [] if tests is None else [f"fixed effects: t quantiles with {tester.method} df"]
    if check.broken:
        notes.append(check.message)
    return Intervals("wald", level, tuple(out), tuple(notes))


def confint(
    fit: Fit,
    method: str = "wald",
    level: float = 0.95,
    *,
    ddf: str | None = "satterthwaite",
    nsim: int = 1000,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Intervals:
    """Confidence intervals for every parameter by the Wald, profile or bootstrap method.

    Parameters
    ----------
    fit : Fit
    method : str
        ``"wald"``, ``"profile"`` (as lme4's ``confint(method = "profile")``) or
        ``"bootstrap"`` (parametric, percentile).
    level : float
    ddf : str or None
        Wald only: df for β's t quantiles (None: normal quantiles, as lme4).
    nsim, seed, workers, progress
        Bootstrap only: replicates, seed, worker processes, and a callback
        ``progress(done, total)``.
    """
    level = check_level(level)
    key = str(method).strip().lower()
    if key == "wald":
        return wald_intervals(fit, level, ddf)
    if key == "profile":
        from .profile import profile_intervals

        return profile_intervals(fit, level)
    if key == "bootstrap":
        from .bootstrap import bootstrap_intervals

        return bootstrap_intervals(fit, level, nsim=nsim, seed=seed, workers=workers, progress=progress)
    raise LmmdxError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")
