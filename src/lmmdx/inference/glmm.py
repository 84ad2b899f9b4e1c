"""Inference for GLMM fits: Wald z intervals and tests (the linear model's t machinery does not apply).

Wald intervals for β use normal quantiles and the fit's covariance (lme4's ``confint(method =
"Wald")``); for the standard deviations, the delta method on the inverse Hessian of the criterion
over (θ, β), flagged as unreliable at or near the boundary, where the approximation fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from .intervals import Interval, Intervals

if TYPE_CHECKING:
    from ..result import GlmmFit

__all__ = ["glmm_bootstrap_intervals", "glmm_intervals", "glmm_profile_intervals", "glmm_wald_intervals"]


def _sd_names(fit: GlmmFit) -> list[str]:
    names = []
    for c in fit.random_effects:
        names.append(f"sd_{c.term}|{c.group}")
    return names


def glmm_wald_intervals(fit: GlmmFit, level: float = 0.95) -> Intervals:
    """Wald z intervals for β, and delta-method intervals for the SDs of scalar terms."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    z = float(stats.norm.ppf(0.5 + level / 2))
    out: list[Interval] = []
    cert = fit.derivatives
    model = fit.glmm
    nt = model.ntheta
    inv = None
    if cert is not None and cert.positive_definite:
        try:
            inv = 2.0 * np.linalg.inv(cert.hessian)
        except np.linalg.LinAlgError:
            inv = None
    free = list(cert.free) if cert is not None else []
    at = 0
    for name, comp, (k, block) in zip(_sd_names(fit), fit.random_effects,
                                      [(b.k, b) for b in model.design.blocks for _ in range(b.k)], strict=True):
        del block
        lower = upper = float("nan")
        reliable, note = False, "delta-method intervals only for scalar terms away from the boundary"
        if k == 1 and inv is not None and at in free and comp.sd > 0:
            # SD = |θ_int| · scale of the term's column
            scale = comp.sd / abs(fit.theta_internal[at]) if fit.theta_internal[at] != 0 else float("nan")
            i = free.index(at)
            se = np.sqrt(inv[i, i]) * scale
            lower, upper = max(comp.sd - z * se, 0.0), comp.sd + z * se
            reliable = comp.sd - z * se > 0
            note = "" if reliable else "clipped at 0: use profile intervals"
        if k == 1:
            at += 1
        out.append(Interval(name, comp.sd, lower, upper, "wald", reliable, note))
    at = nt
    del at
    for name, b, se in zip(fit.fixed_names, fit.beta, fit.std_errors, strict=True):
        out.append(Interval(name, float(b), float(b - z * se), float(b + z * se), "wald",
                            not fit.singular, "" if not fit.singular else "singular fit: see the profile"))
    return Intervals("wald", level, tuple(out), ())


def glmm_intervals(fit: GlmmFit, method: str = "wald", level: float = 0.95, **options: object) -> Intervals:
    """The dispatch of ``GlmmFit.confint``."""
    from ..errors import DataError

    if method == "wald":
        return glmm_wald_intervals(fit, level)
    if method == "profile":
        return glmm_profile_intervals(fit, level)
    if method == "bootstrap":
        nsim = int(options.get("nsim", 200))  # type: ignore[call-overload]
        seed = options.get("seed")
        return glmm_bootstrap_intervals(fit, level, nsim, seed if isinstance(seed, int) else None)
    raise DataError(f"confidence intervals for GLMM fits: 'wald', 'profile' or 'bootstrap' (got {method!r})")


def _profile_setup(fit: GlmmFit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x̂ (internal θ, β), the user-scale map of β (A) and the lower bounds."""
    model = fit.glmm
    x = np.concatenate([fit.theta_internal, fit.beta_internal])
    return x, model.scaling.x_transform, model.lower()


def _profile_value(fit: GlmmFit, index: int, value: float, linear: np.ndarray | None,
                   warm: dict[str, np.ndarray]) -> float:
    """min of −2 log L with one coordinate fixed: θ_int[index] = value, or (user β)·… = value."""
    from ..engine import Tolerances, minimize

    model = fit.glmm
    nt = model.ntheta
    x_hat = warm["x"]
    f = model.evaluator()
    f.u = warm["u"].copy()
    if linear is None:  # a θ element fixed
        free = np.array([i for i in range(x_hat.size) if i != index])

        def point(z: np.ndarray) -> np.ndarray:
            full = np.empty(x_hat.size)
            full[free] = z
            full[index] = value
            return full
    else:  # user-scale β_j = value: β_int = A⁻¹ β_user
        a = linear
        a_inv = np.linalg.inv(a)
        free = np.array([i for i in range(x_hat.size) if i != nt + index])

        def point(z: np.ndarray) -> np.ndarray:
            theta = z[:nt]
            beta_user = np.insert(z[nt:], index, value)
            return np.concatenate([theta, a_inv @ beta_user])

    if linear is None:
        z0 = x_hat[free]
    else:
        beta_user = a @ x_hat[nt:]
        z0 = np.concatenate([x_hat[:nt], np.delete(beta_user, index)])
    lower = np.concatenate([model.lower()[:nt], np.full(model.p, -np.inf)])
    lower = np.delete(lower, index if linear is None else nt + index)
    trace = minimize(lambda z: f(point(z)), z0, lower, "bobyqa",
                     Tolerances(ftol_abs=1e-8, xtol_abs=1e-7, initial_step=0.02))
    return float(trace.fmin)


def _crossing(zeta: Callable[[float], float], estimate: float, step: float, target: float, sign: int,
              floor: float | None) -> tuple[float, str]:
    """The value on one side of ``estimate`` where the signed root deviance reaches ``sign·target``."""
    from scipy.optimize import brentq

    inner, value = estimate, estimate + sign * step
    for _ in range(12):
        if floor is not None and (value - floor) * sign < 0:
            value = floor
            if abs(zeta(value)) < target:
                return floor, "at the boundary"
            break
        if abs(zeta(value)) >= target:
            break
        inner, value = value, value + sign * step
        step *= 2.0
    else:
        return float("nan"), "the profile does not reach the level"
    root = brentq(lambda v: abs(zeta(v)) - target, min(inner, value), max(inner, value),
                  xtol=1e-6 * max(abs(step), 1e-12))
    return float(root), ""


def glmm_profile_intervals(fit: GlmmFit, level: float = 0.95) -> Intervals:
    """Profile-likelihood intervals for the fixed effects and the SDs of scalar random-effects terms.

    Each limit is where ``ζ(v) = sign(v − v̂) √(−2 log L(v) − (−2 log L̂))`` reaches ``±z``, the other
    parameters re-optimised at every v (lme4's ``profile``); an SD whose profile stays inside the
    level down to 0 has its lower limit at 0.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    target = float(stats.norm.ppf(0.5 + level / 2))
    model = fit.glmm
    x_hat, a, _ = _profile_setup(fit)
    warm = {"x": x_hat, "u": fit.derivatives.modes}
    best = fit.objective
    out: list[Interval] = []
    at = 0
    for block in model.design.blocks:
        for column in block.columns:
            comp = next(c for c in fit.random_effects if c.group == block.group and c.term == column)
            name = f"sd_{column}|{block.group}"
            if block.k != 1:
                out.append(Interval(name, comp.sd, float("nan"), float("nan"), "profile", False,
                                    "profiles of vector-valued terms are not available for GLMMs yet"))
                continue
            index = at
            scale = comp.sd / x_hat[index] if x_hat[index] > 0 else float("nan")

            def zeta(v: float, index: int = index, scale: float = scale, sd: float = comp.sd) -> float:
                dev = _profile_value(fit, index, v / scale, None, warm)
                return float(np.sign(v - sd)) * np.sqrt(max(dev - best, 0.0))

            if not np.isfinite(scale):
                out.append(Interval(name, comp.sd, 0.0, float("nan"), "profile", False, "the SD is 0"))
            else:
                step = max(0.5 * comp.sd, 1e-3)
                lower, note_l = _crossing(zeta, comp.sd, step, target, -1, 0.0)
                upper, note_u = _crossing(zeta, comp.sd, step, target, 1, None)
                out.append(Interval(name, comp.sd, lower, upper, "profile", not note_u,
                                    note_l or note_u))
        at += block.k * (block.k + 1) // 2
    for j, (name, b, se) in enumerate(zip(fit.fixed_names, fit.beta, fit.std_errors, strict=True)):

        def zeta_b(v: float, j: int = j, b: float = float(b)) -> float:
            dev = _profile_value(fit, j, v, a, warm)
            return float(np.sign(v - b)) * np.sqrt(max(dev - best, 0.0))

        step = float(se) if np.isfinite(se) and se > 0 else max(abs(float(b)), 1.0)
        lower, note_l = _crossing(zeta_b, float(b), step, target, -1, None)
        upper, note_u = _crossing(zeta_b, float(b), step, target, 1, None)
        out.append(Interval(name, float(b), lower, upper, "profile", not (note_l or note_u), note_l or note_u))
    return Intervals("profile", level, tuple(out), ())


def glmm_bootstrap_intervals(fit: GlmmFit, level: float = 0.95, nsim: int = 200, seed: int | None = None
                             ) -> Intervals:
    """Parametric-bootstrap percentile intervals: responses simulated from the fit, the GLMM refitted."""
    from ..errors import LmmdxError
    from ..simulate import GlmmRefitter, GlmmSimulator

    rng = np.random.default_rng(seed)
    simulator, refitter = GlmmSimulator(fit), GlmmRefitter(fit)
    rows, failed = [], 0
    for _ in range(int(nsim)):
        y = simulator.draw(rng)
        try:
            other = refitter(y)
        except (LmmdxError, np.linalg.LinAlgError, ArithmeticError):
            failed += 1
            continue
        rows.append(np.concatenate([[c.sd for c in other.random_effects], other.beta]))
    names = [f"sd_{c.term}|{c.group}" for c in fit.random_effects] + list(fit.fixed_names)
    estimates = [c.sd for c in fit.random_effects] + list(fit.beta)
    values = np.array(rows) if rows else np.full((0, len(names)), np.nan)
    alpha = (1.0 - level) / 2
    out = []
    for k, (name, est) in enumerate(zip(names, estimates, strict=True)):
        lo, hi = (np.quantile(values[:, k], [alpha, 1 - alpha]) if values.shape[0] else (np.nan, np.nan))
        out.append(Interval(name, float(est), float(lo), float(hi), "bootstrap", values.shape[0] >= 100,
                            "" if values.shape[0] >= 100 else "fewer than 100 refits"))
    notes = (f"{failed} of {nsim} bootstrap refits failed and were left out",) if failed else ()
    return Intervals("bootstrap", level, tuple(out), notes)
