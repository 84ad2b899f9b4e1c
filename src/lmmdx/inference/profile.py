"""Profile-likelihood intervals for every parameter, as lme4's ``confint(method = "profile")``.

For a parameter ψ, the profile ``ζ(ψ) = sign(ψ − ψ̂) √(d(ψ) − d̂)`` uses the ML
deviance ``d(ψ)`` minimised over all other parameters (β always analytically). As in
lme4 (``devfun2`` refits REML fits by ML), the profile is that of the ML fit. The
interval is ``{ψ : |ζ(ψ)| ≤ z}``; its ends are found by stepping out from ψ̂ along
the (nearly linear) ζ and then solving ``ζ(ψ) = ±z`` exactly (Brent's method),
where lme4 interpolates a spline through the steps. When ζ stays within ±z up to the
edge of the parameter space (an SD of 0, a correlation of ±1) the limit is that edge.

Variance parameters are profiled on lme4's scale (SDs, correlations, σ), the others
minimised in coordinates where the fixed one is a coordinate (:mod:`.constrained`);
a fixed effect βⱼ by refitting the model with ``xⱼ βⱼ`` moved into an offset (Bates
et al. 2015, JSS 67(1), section 5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ..blas import single_threaded
from ..design.fixed import FixedEffects
from ..engine import Tolerances, minimize
from ..fitting import fit_model
from ..model import Model
from .constrained import FixedVariance
from .intervals import Interval, Intervals
from .parameters import Parameter, edge_side, fit_parameters, parameters

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["ProfileTrace", "profile", "profile_intervals"]

#: Stopping rule of the inner minimisations (on the deviance scale).
_TOL = Tolerances(ftol_abs=1e-11, xtol_abs=1e-10)
#: Relative accuracy of the limits (far below the error of lme4's spline interpolation).
_XTOL = 1e-9
#: A profile point this far (relative) below the ML deviance means the fit missed its optimum
#: (lme4 stops with "profiling detected new, lower deviance").
_LOWER_TOL = 1e-7
#: At most this many steps outwards before giving up on a side (lme4's maxpts is 100).
_MAX_STEPS = 40


@dataclass(frozen=True, slots=True)
class ProfileTrace:
    """The profile of one parameter.

    Attributes
    ----------
    parameter : str
    kind : str
        ``"sd"``, ``"cor"``, ``"sigma"`` or ``"beta"``.
    estimate : float
        The ML estimate (the profile's centre).
    values, zeta : ndarray, shape (m,)
        Points evaluated (sorted) and ζ there.
    lower, upper : float
        The interval's ends (an edge of the parameter space where ζ never reaches ±z).
    drop : float
        How far the deviance fell below the ML fit's along the profile (0 when the fit
        was at its optimum).
    """

    parameter: str
    kind: str
    estimate: float
    values: np.ndarray
    zeta: np.ndarray
    lower: float
    upper: float
    drop: float = 0.0


class _Profiler:
    """Evaluates ζ for the parameters of one fit (refitted by ML), with warm starts."""

    def __init__(self, fit: Fit) -> None:
        self.fit = fit
        self.ml = fit if not fit.reml else fit_model(fit.model, reml=False, optimizer=fit.optimizer.optimizer,
                                                     start=fit.theta_internal)
        self.model = self.ml.model
        self.params = parameters(self.model)
        self.estimates = fit_parameters(self.ml)
        self.terms = self.ml.boundary
        self.nvar = self.model.deviance.layout.ntheta + 1
        self.base = self.ml.objective
        self.sigma = self.ml.sigma
        self._reduced: dict[int, Model] = {}
        self._fixed = {p.index: FixedVariance(self.model, p) for p in self.params[: self.nvar]}
        self.drop = 0.0

    # -- deviance with one parameter fixed -------------------------------------------------
    def _fixed_variance(self, par: Parameter, value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        fixed = self._fixed[par.index]
        trace = minimize(lambda x: fixed(x, value), start, fixed.lower(), "bobyqa", _TOL)
        return float(trace.fmin), trace.x

    def _reduced_model(self, j: int) -> Model:
        if j not in self._reduced:
            design = self.model.design
            keep = [i for i in range(design.X.shape[1]) if i != j]
            fixed = FixedEffects(np.ascontiguousarray(design.X[:, keep]), tuple(design.fixed.names[i] for i in keep), ())
            self._reduced[j] = Model.from_design(replace(design, fixed=fixed))
        return self._reduced[j]

    def _fixed_beta(self, par: Parameter, value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        design = self.model.design
        model = self._reduced_model(par.col).with_response(design.y - design.X[:, par.col] * value)
        layout = model.deviance.layout
        trace = minimize(lambda th: model.deviance(th, False), start, layout.lower(), "bobyqa", _TOL)
        return float(trace.fmin + model.shift[False]), trace.x

    def zeta(self, par: Parameter, value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        """ζ at ``value`` and the minimiser of the other parameters (a warm start for the next)."""
        if par.kind == "beta":
            dev, arg = self._fixed_beta(par, value, start)
        else:
            dev, arg = self._fixed_variance(par, value, start)
        estimate = float(self.estimates[par.index])
        self.drop = max(self.drop, self.base - dev)
        return float(np.sign(value - estimate) * np.sqrt(max(dev - self.base, 0.0))), arg

    def start_for(self, par: Parameter) -> np.ndarray:
        """The ML optimum of the other parameters (in the coordinates of their minimisation)."""
        if par.kind == "beta":
            return self.ml.theta_internal.copy()
        return self._fixed[par.index].start(self.ml.theta_internal, self.sigma)

    def first_step(self, par: Parameter) -> float:
        """A step from the estimate that lands near ζ = ±1."""
        est = float(self.estimates[par.index])
        if par.kind == "beta":
            return float(np.sqrt(self.ml.vcov_beta[par.col, par.col]))
        if par.kind == "cor":
            return 0.1
        return 0.2 * max(est, 0.1 * self.sigma)

    # -- one side of one interval ---------------------------------------------------------
    def limit(self, par: Parameter, side: int, z: float, points: dict[float, tuple[float, np.ndarray]]) -> float:
        """Where ζ crosses ``side · z`` (or the edge of the parameter space)."""
        est = float(self.estimates[par.index])
        edge = par.upper_bound if side > 0 else par.lower_bound
        if par.kind != "beta" and edge_side(par, est, self.terms) == side:
            return edge

        def evaluate(x: float) -> float:
            if x not in points:
                nearest = min(points, key=lambda v: abs(v - x))
                points[x] = self.zeta(par, x, points[nearest][1])
            return points[x][0]

        inner, inner_z = est, 0.0
        x = est + side * self.first_step(par)
        for _ in range(_MAX_STEPS):
            if np.isfinite(edge) and (x - edge) * side >= 0:
                x = edge
            zx = evaluate(x)
            if side * zx >= z:
                break
            if x == edge:
                return edge
            slope = (zx - inner_z) / (x - inner)
            gone = abs(x - est)
            dist = 1.2 * abs(side * z - zx) / slope if slope > 0 else 2.0 * gone
            inner, inner_z = x, zx
            x = x + side * min(max(dist, 0.1 * gone), 4.0 * gone)
        else:
            return float("nan")
        lo, hi = sorted((inner, x))
        scale = max(abs(est), abs(x - est))
        from scipy.optimize import brentq  # loaded only when a profile is asked for

        return float(brentq(lambda v: evaluate(v) - side * z, lo, hi, xtol=_XTOL * scale,
                            rtol=4 * np.finfo(float).eps))


def profile(fit: Fit, level: float = 0.95, which: str | tuple[str, ...] | None = None) -> tuple[ProfileTrace, ...]:
    """Profile every parameter (or those named in ``which``) far enough for ``level``.

    Parameters
    ----------
    fit : Fit
    level : float
        Confidence level whose limits are located.
    which : str or tuple of str, optional
        Parameter names (see :mod:`.parameters`) or one name, or as in lme4's ``profile``
        ``"theta_"`` (the SDs, correlations and σ) or ``"beta_"`` (the fixed effects);
        all by default.
    """
    with single_threaded():
        return _profile(fit, level, which)


def _selected(par: Parameter, which: str | tuple[str, ...] | None) -> bool:
    if which is None:
        return True
    if which == "theta_":
        return par.kind != "beta"
    if which == "beta_":
        return par.kind == "beta"
    return par.name in ((which,) if isinstance(which, str) else which)


def _profile(fit: Fit, level: float, which: str | tuple[str, ...] | None) -> tuple[ProfileTrace, ...]:
    profiler = _Profiler(fit)
    z = float(special.ndtri(0.5 + level / 2.0))
    traces = []
    for par in profiler.params:
        if not _selected(par, which):
            continue
        est = float(profiler.estimates[par.index])
        if not np.isfinite(est):  # a correlation beside a zero SD: undefined, nothing to profile
            traces.append(ProfileTrace(par.name, par.kind, est, np.array([]), np.array([]), np.nan, np.nan))
            continue
        merged: dict[float, tuple[float, np.ndarray]] = {}
        ends = []
        profiler.drop = 0.0
        for side in (-1, 1):
            points = {est: (0.0, profiler.start_for(par))}
            ends.append(profiler.limit(par, side, z, points))
            merged.update(points)
        xs = np.array(sorted(merged))
        zeta = np.array([merged[x][0] for x in xs])
        traces.append(ProfileTrace(par.name, par.kind, est, xs, zeta, ends[0], ends[1], profiler.drop))
    return tuple(traces)


def profile_intervals(fit: Fit, level: float = 0.95) -> Intervals:
    """Profile-likelihood intervals for every parameter (see :func:`profile`)."""
    traces = profile(fit, level)
    estimates = fit_parameters(fit)
    out = []
    for trace, est in zip(traces, estimates, strict=True):
        notes = []
        if trace.kind in ("sd", "cor"):
            edges = {"sd": (0.0, np.inf), "cor": (-1.0, 1.0)}[trace.kind]
            for end, edge, side in ((trace.lower, edges[0], "lower"), (trace.upper, edges[1], "upper")):
                if end == edge:
                    notes.append(f"{side} limit at the edge of the parameter space")
        reliable = bool(np.isfinite(trace.lower) and np.isfinite(trace.upper))
        if not np.isfinite(trace.estimate):
            notes.append("undefined: the SD of one of its effects is zero")
        elif not reliable:
            notes.append("the profile did not reach the limit")
        if trace.drop > _LOWER_TOL * max(1.0, abs(fit.objective)):
            reliable = False
            notes.append(f"the deviance fell {trace.drop:.3g} below the ML fit's along this profile: "
                         "the fit is not at its optimum")
        out.append(Interval(trace.parameter, float(est), trace.lower, trace.upper, "profile", reliable,
                            "; ".join(notes)))
    caveats = ("profile of the ML deviance (a REML fit is refitted by ML, as lme4 does)",) if fit.reml else ()
    return Intervals("profile", level, tuple(out), caveats)
