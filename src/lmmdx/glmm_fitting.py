"""Fit a generalised linear mixed model: formula → design → :class:`GlmmModel` → optimum → :class:`GlmmFit`.

The optimisation follows lme4's ``glmer`` and then goes further:

1. over θ, with β and the modes from one joint PIRLS at each θ (lme4's nAGQ = 0 stage);
2. over (θ, β) together on the Laplace or quadrature criterion, from stage 1's optimum (BOBYQA);
3. Newton steps on central-difference derivatives of that criterion, θ elements at 0 held there,
   until the Newton decrement is negligible. The same Hessian gives the standard errors of β
   (the β block of its inverse, as lme4's default ``vcov`` does for GLMMs), except for singular
   fits, whose standard errors come from the PIRLS factor of X given θ (as in lme4).

The criterion is the exact Laplace approximation at converged modes; lme4 stops PIRLS on a
relative change of 1e-7, so its reported Laplace log-likelihoods are 1e-4 to 1e-3 above the exact
value at its own estimates (quadrature values agree to 1e-8).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .blas import single_threaded
from .boundary import BOUNDARY_TOLERANCE, correlations, is_singular
from .design import Design, build_design
from .design.frame import as_pandas
from .engine import OptTrace, Tolerances, minimize
from .engine.agq import MAX_NODES
from .engine.family import make_family
from .engine.optimize import chain
from .engine.pirls import PirlsFailure, PirlsResult
from .engine.polish import Certificate, decrement_tolerance
from .errors import DataError, FitError, LmmdxWarning
from .fitting import _engine_guard, _theta_names
from .formula import parse_formula
from .glmm_model import Evaluator, GlmmModel
from .result import ConditionalModes, Correlation, GlmmFit, VarComp

__all__ = ["GlmmCertificate", "fit_glmm", "fit_glmm_design", "fit_glmm_model"]

#: Stage 1 stops at this (a start for stage 2).
_STAGE1 = Tolerances(ftol_abs=1e-6, xtol_abs=1e-6)
#: Stage 2: BOBYQA to about the noise of the criterion, Newton does the rest.
_STAGE2 = Tolerances(ftol_abs=1e-9, xtol_abs=1e-8, initial_step=0.05)
#: Central-difference step for the derivatives (internal coordinates are of order 1).
_STEP = 1e-3
_NEWTON_STEPS = 8
#: A Newton decrement below this ends the polish (the criterion is within its square of the optimum).
_DECREMENT = 1e-6
_SLACK = 1e-9
#: θ elements below this (internal) are tried at 0 when the Hessian is not positive definite.
_NEAR_ZERO = 0.05
#: ... and kept there when the criterion rises by at most this much (relative): a flat boundary.
_BOUNDARY_SLACK = 1e-8
#: A Newton step leaving a θ diagonal element below this puts it at 0 (the criterion is flat there).
_ZERO = 1e-6
#: When the polish moved further than this, the Hessian is taken again at the final point.
_REHESSIAN = 1e-4
#: Singular fits take their standard errors from the PIRLS factor of X given θ, as lme4 does.
_RX_WHEN_SINGULAR = False


@dataclass(frozen=True, slots=True)
class GlmmCertificate:
    """What the optimum is known to satisfy, from derivatives of the criterion there.

    Attributes
    ----------
    gradient : ndarray
        Central-difference gradient over the free internal parameters (θ not at 0, β).
    hessian : ndarray
        Central-difference Hessian over the same parameters.
    free : ndarray of int
        Indices of (θ, β) that are free (θ diagonal elements at 0 are held).
    newton_decrement : float
        ``sqrt(gᵀ H⁻¹ g)``: twice the criterion's distance to the local quadratic minimum, square-rooted
        (scale-free; nan when H is not positive definite).
    max_abs_gradient : float
        lme4's statistic (on the internal scale).
    positive_definite : bool
    boundary_derivatives : ndarray
        One-sided derivatives of the held θ elements (≥ 0 at a true boundary optimum).
    modes : ndarray
        The spherical conditional modes at the optimum (a start for PIRLS near it).
    optimizer_x : ndarray
        Where the derivative-free optimiser stopped, before the Newton polish (internal θ, β).
    """

    gradient: np.ndarray
    hessian: np.ndarray
    free: np.ndarray
    newton_decrement: float
    max_abs_gradient: float
    positive_definite: bool
    boundary_derivatives: np.ndarray
    modes: np.ndarray
    optimizer_x: np.ndarray


def fit_glmm(formula: str, data: Any, family: str, link: str | None = None, nagq: int = 1,
             optimizer: str = "bobyqa", laplace: str = "exact") -> GlmmFit:
    """Fit a binomial or Poisson GLMM written in lme4's syntax (``cbind(s, f) ~ x + (1 | g)``).

    Parameters
    ----------
    formula : str
    data : pandas, polars or pyarrow table
    family : {"binomial", "poisson"}
    link : str, optional
        logit (default), probit or cloglog for binomial; log (default), identity or sqrt for Poisson.
    nagq : int
        1 = Laplace (default); up to 25 quadrature nodes for a single scalar term.
    optimizer : str
        The optimiser of stage 2 (a registered name).
    laplace : {"exact", "lme4"}
        ``"exact"`` (default): the Laplace approximation at the exact conditional modes.
        ``"lme4"``: lme4's own approximation of it (PIRLS stopped after about two iterations from
        stage 1's linear predictor), which reproduces glmer's estimates digit for digit; its
        −2 log L is 1e-4 to 1e-3 above the exact value. Only for nagq = 1.

    Raises
    ------
    LmmdxError
        A one-line description of what is wrong.
    """
    try:
        fam = make_family(family, link)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    if not isinstance(nagq, (int, np.integer)) or not 1 <= int(nagq) <= MAX_NODES:
        raise DataError(f"nagq must be a whole number from 1 to {MAX_NODES}, not {nagq!r}")
    design = build_design(parse_formula(formula), as_pandas(data), family=fam.name)
    result = fit_glmm_design(design, link=fam.link.name, nagq=int(nagq), optimizer=optimizer, laplace=laplace)
    for message in result.warnings:
        warnings.warn(message, LmmdxWarning, stacklevel=2)
    return result


def fit_glmm_design(design: Design, link: str | None = None, nagq: int = 1, optimizer: str = "bobyqa",
                    laplace: str = "exact") -> GlmmFit:
    """Fit a prepared GLMM :class:`Design` (built with ``family=``)."""
    if design.family is None:
        raise FitError("the design was built without a family: use build_design(..., family=...)")
    _check_variation(design)
    try:
        model = GlmmModel.from_design(design, make_family(design.family, link), nagq, laplace)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    return fit_glmm_model(model, optimizer=optimizer)


def _check_variation(design: Design) -> None:
    y = design.y
    name = design.formula.response_label
    if design.family == "binomial" and (np.all(y == 0) or np.all(y == 1)):
        raise DataError(f"the response {name!r} is {'all failures' if np.all(y == 0) else 'all successes'}: "
                        "there is no variation to model")
    if design.family == "poisson" and np.all(y == 0):
        raise DataError(f"the response {name!r} is 0 in every row: there is no variation to model")


def fit_glmm_model(model: GlmmModel, optimizer: str = "bobyqa", start: np.ndarray | None = None,
                   newton_first: bool = True) -> GlmmFit:
    """Optimise a :class:`GlmmModel` and assemble the :class:`GlmmFit`.

    ``start`` is an internal (θ, β) to begin stage 2 from (stage 1 is then skipped). With
    ``newton_first`` (and the default optimiser), stage 2 is Newton's method on central differences
    from stage 1's optimum, and the derivative-free optimiser runs only when Newton fails (a
    Hessian that is not positive definite, a step that does not descend).
    """
    with single_threaded(), np.errstate(all="ignore"):
        formula = model.design.formula.text
        with _engine_guard(formula):
            trace, x, ev, certificate = _optimize(model, optimizer, start, newton_first and optimizer == "bobyqa")
        if not np.isfinite(trace.fmin) or trace.fmin >= 1e299:
            raise FitError(f"the criterion of {formula!r} cannot be evaluated on these data (PIRLS failed)")
        with _engine_guard(formula):
            if certificate is None:
                x, fmin, certificate, used = _polish(model, x, ev)
                trace = replace(trace, x=x, fmin=fmin, nevals=trace.nevals + used)
            return assemble_glmm(model, x, trace, certificate)


def _optimize(model: GlmmModel, optimizer: str, start: np.ndarray | None, newton_first: bool = False
              ) -> tuple[OptTrace, np.ndarray, Evaluator, GlmmCertificate | None]:
    ev = model.evaluator()
    nt = model.ntheta
    lp0 = None
    if start is None:
        first = minimize(ev.stage1, model.layout.start(), model.layout.lower(), "bobyqa", _STAGE1)
        if not np.isfinite(first.fmin) or first.fmin >= 1e299:
            return first, first.x, ev, None
        ev.stage1(first.x)  # β and u at stage 1's optimum
        x0 = np.concatenate([first.x, ev.beta])
        if ev.last is not None:
            lp0 = ev.last.eta - model.offset
            ev.lp0 = lp0
    else:
        first = None
        x0 = np.asarray(start, dtype=np.float64)
    if newton_first and first is not None:
        newton = model.evaluator(lp0)
        newton.u = ev.u.copy()
        x, fx, certificate, used = _polish(model, x0, newton)
        if certificate.positive_definite and certificate.newton_decrement < _DECREMENT:
            trace = OptTrace(optimizer, x0, x, fx, first.nevals + used, "newton", True,
                             np.zeros((0, x0.size + 1)), "newton")
            return trace, x, newton, certificate
    second = minimize(ev, x0, model.lower(), optimizer, _STAGE2)
    x = second.x
    if ev.best_u is not None:  # the modes at the optimum: a valid start for what follows (identity links)
        ev.u = ev.best_u.copy()
    ev(x)

    def fresh() -> Evaluator:
        out = model.evaluator(lp0)
        out.u = ev.u.copy()
        return out

    # θ diagonal elements near 0: try them at 0 (the boundary), keep when not worse
    diagonal = np.concatenate([model.layout.diagonal_mask(), np.zeros(model.p, dtype=bool)])
    small = diagonal & (x < BOUNDARY_TOLERANCE) & (x != 0.0)
    if small.any():
        candidate = np.where(small, 0.0, x)
        value = fresh()(candidate)
        if value <= second.fmin + _SLACK * max(1.0, abs(second.fmin)):
            second = replace(second, x=candidate, fmin=value)
            x = candidate
    # restart off the boundary when θ has diagonal elements at 0 (BOBYQA can stall on a face)
    at_edge = diagonal[:nt] & (x[:nt] < 1e-3)
    if at_edge.any():
        restart_x = x.copy()
        restart_x[:nt] = np.where(at_edge, 0.5, x[:nt])
        again = minimize(fresh(), restart_x, model.lower(), optimizer, _STAGE2)
        second = chain(second, again)
        x = second.x
    trace = replace(second, x=x, x0=x0)
    if first is not None:  # stage 1 searched θ alone: its evaluations are counted, not recorded
        trace = replace(trace, nevals=first.nevals + second.nevals)
    final = fresh()
    final(x)
    return trace, x, final, None


class _Points:
    """Evaluations of the criterion around x, each PIRLS starting from x's modes (order-independent)."""

    def __init__(self, f: Evaluator, x: np.ndarray) -> None:
        self.f, self.x = f, x
        f(x)  # the modes at x itself
        self.u0 = f.u.copy()
        self.used = 1

    def __call__(self, shift: np.ndarray, free: np.ndarray) -> float:
        self.f.u = self.u0.copy()
        self.used += 1
        point = self.x.copy()
        point[free] += shift
        return self.f(point)


def _gradient(points: _Points, fx: float, free: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """Central-difference gradient over ``free``, with the diagonal of the Hessian from the same points."""
    d = free.size
    grad, diag = np.zeros(d), np.zeros(d)
    plus, minus = np.zeros(d), np.zeros(d)
    for i in range(d):
        e = np.zeros(d)
        e[i] = h[i]
        plus[i], minus[i] = points(e, free), points(-e, free)
        grad[i] = (plus[i] - minus[i]) / (2 * h[i])
        diag[i] = (plus[i] - 2 * fx + minus[i]) / (h[i] * h[i])
    return grad, diag, plus + minus


def _hessian(points: _Points, fx: float, free: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian (second order accurate; 2 more points per pair)."""
    grad, diag, axis = _gradient(points, fx, free, h)
    d = free.size
    hess = np.diag(diag)
    for i in range(d):
        for j in range(i):
            e = np.zeros(d)
            e[i], e[j] = h[i], h[j]
            both = points(e, free) + points(-e, free)
            value = (both - 0.5 * (axis[i] + axis[j]) + 2 * fx - 0.5 * (axis[i] + axis[j]) + 0.0) / (2 * h[i] * h[j])
            # f(x±(eᵢ+eⱼ)) sum = 2f + h²(Hᵢᵢ + Hⱼⱼ + 2Hᵢⱼ): solve for Hᵢⱼ
            value = (both - 2 * fx - h[i] ** 2 * diag[i] - h[j] ** 2 * diag[j]) / (2 * h[i] * h[j])
            hess[i, j] = hess[j, i] = value
    return grad, hess


def _positive_definite(hess: np.ndarray) -> bool:
    if hess.size == 0:
        return True
    if not np.all(np.isfinite(hess)):
        return False
    return bool(np.all(np.linalg.eigvalsh(hess) > 0))


def _steps(x: np.ndarray, free: np.ndarray) -> np.ndarray:
    return _STEP * np.maximum(1.0, np.abs(x[free]))


def _polish(model: GlmmModel, x: np.ndarray, f: Evaluator) -> tuple[np.ndarray, float, GlmmCertificate, int]:
    """Newton steps on central differences (θ elements at 0 held); the certificate at the final point.

    The Hessian is computed at the optimiser's point; later steps reuse it (chord Newton, each costing
    one gradient). When it is not positive definite with θ elements near 0, those are tried at 0.
    """
    diagonal = np.concatenate([model.layout.diagonal_mask(), np.zeros(model.p, dtype=bool)])
    used = 0
    x = np.array(x, dtype=np.float64)
    start_x = x.copy()
    fx = f(x)
    used += 1

    def held_mask(point: np.ndarray) -> np.ndarray:
        return diagonal & (point <= 0.0)

    free = np.flatnonzero(~held_mask(x))
    points = _Points(f, x)
    grad, hess = _hessian(points, fx, free, _steps(x, free))
    used += points.used
    start = x.copy()
    for _ in range(2):  # not positive definite near the boundary: try the small θ elements at 0
        if _positive_definite(hess):
            break
        near = diagonal & (x > 0.0) & (x < _NEAR_ZERO)
        if not near.any():
            break
        candidate = np.where(near, 0.0, x)
        value = f(candidate)
        used += 1
        if not value <= fx + _BOUNDARY_SLACK * max(1.0, abs(fx)):
            break
        x, fx = candidate, value
        free = np.flatnonzero(~held_mask(x))
        points = _Points(f, x)
        grad, hess = _hessian(points, fx, free, _steps(x, free))
        used += points.used
        start = x.copy()
    for _ in range(_NEWTON_STEPS):
        if not (_positive_definite(hess) and np.all(np.isfinite(grad))):
            break
        chol = np.linalg.cholesky(hess)
        step = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        if float(np.sqrt(max(-float(grad @ step), 0.0))) < _DECREMENT:
            break
        accepted = False
        for _ in range(4):
            candidate = x.copy()
            candidate[free] += step
            candidate[diagonal & (candidate < _ZERO)] = 0.0
            value = f(candidate)
            used += 1
            if value <= fx + _SLACK * max(1.0, abs(fx)):
                accepted = True
                break
            step = step / 2
        if not accepted:
            break
        x, fx = candidate, value
        if not np.array_equal(held_mask(x)[free], np.zeros(free.size, dtype=bool)):
            free = np.flatnonzero(~held_mask(x))
            points = _Points(f, x)
            grad, hess = _hessian(points, fx, free, _steps(x, free))
            used += points.used
            start = x.copy()
            continue
        points = _Points(f, x)
        grad, _, _ = _gradient(points, fx, free, _steps(x, free))
        used += points.used
    if np.max(np.abs(x - start)) > _REHESSIAN:  # moved far from where the Hessian was taken
        points = _Points(f, x)
        grad, hess = _hessian(points, fx, free, _steps(x, free))
        used += points.used
    held = np.flatnonzero(held_mask(x))
    one_sided = np.zeros(held.size)
    points = _Points(f, x)
    for k, index in enumerate(held):
        shift = np.zeros(x.size)
        shift[index] = _STEP
        one_sided[k] = (points(shift, np.arange(x.size)) - fx) / _STEP
    used += points.used
    decrement, pd = float("nan"), False
    if _positive_definite(hess) and np.all(np.isfinite(grad)):
        chol = np.linalg.cholesky(hess)
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
        decrement, pd = float(np.sqrt(max(float(grad @ step), 0.0))), True
    certificate = GlmmCertificate(grad, hess, free, decrement, float(np.max(np.abs(grad))) if grad.size else 0.0,
                                  pd, one_sided, points.u0, start_x)
    return x, fx, certificate, used


def _var_corr(model: GlmmModel, factors: list[np.ndarray]) -> tuple[list[VarComp], list[Correlation]]:
    comps, corrs = [], []
    for block, t in zip(model.design.blocks, factors, strict=True):
        cov = t @ t.T
        sd, corr = correlations(cov)
        for j, column in enumerate(block.columns):
            comps.append(VarComp(block.group, column, float(cov[j, j]), float(sd[j])))
        for j in range(block.k):
            for i in range(j + 1, block.k):
                corrs.append(Correlation(block.group, block.columns[j], block.columns[i], float(corr[i, j])))
    return comps, corrs


def _vcov(model: GlmmModel, result: PirlsResult, theta: np.ndarray, certificate: GlmmCertificate,
          singular: bool) -> tuple[np.ndarray, str]:
    """Internal Var(β̂): from the Hessian of the criterion (lme4's default), or from the PIRLS factor."""
    nt, p = model.ntheta, model.p
    free = certificate.free
    beta_rows = free >= nt
    if certificate.positive_definite and beta_rows.sum() == p and not (singular and _RX_WHEN_SINGULAR):
        # θ elements held at 0 are fixed there: the inverse over the free parameters
        inv = np.linalg.inv(certificate.hessian)
        v = 2.0 * inv[np.ix_(beta_rows, beta_rows)]
        v = 0.5 * (v + v.T)
        if np.all(np.linalg.eigvalsh(v) > 0):
            return v, "hessian"
    system = model.system
    state = system.at_theta(theta)
    family = model.family
    mu_eta = family.mu_eta_at(result.eta, result.mu)
    w = model.weights * mu_eta * mu_eta / family.variance(result.mu)
    try:
        step = system.solve(state, w, result.eta - model.offset, True)
        assert step.lx is not None
        inv = np.linalg.inv(step.lx)
    except (PirlsFailure, np.linalg.LinAlgError):  # e.g. separation: X's weighted block vanishes
        return np.full((p, p), np.nan), "none"
    return inv.T @ inv, "rx"


def assemble_glmm(model: GlmmModel, x: np.ndarray, trace: OptTrace, certificate: GlmmCertificate) -> GlmmFit:
    """Map an internal optimum (θ, β) back to the user's scale as a :class:`GlmmFit`."""
    design, scaling, layout = model.design, model.scaling, model.layout
    nt = model.ntheta
    theta_int, beta_int = x[:nt], x[nt:]
    try:
        result = model.solve(theta_int, beta_int, certificate.modes)
    except PirlsFailure as exc:
        raise FitError(f"cannot find the conditional modes at the optimum: {exc}") from None
    factors = model.factors_to_user(theta_int)
    theta_user = layout.from_factors(factors)
    singular = is_singular(theta_int, layout.diagonal_mask())
    vcov_int, method = _vcov(model, result, theta_int, certificate, singular)
    beta = scaling.beta_to_user(beta_int)
    vcov = scaling.vcov_to_user(vcov_int)
    comps, corrs = _var_corr(model, factors)
    modes = []
    u = result.u
    at = 0
    for block, t_int, transform in zip(design.blocks, layout.factors(theta_int), scaling.z_transforms, strict=True):
        size = block.nlevels * block.k
        b_int = u[at : at + size].reshape(block.nlevels, block.k) @ t_int.T
        at += size
        modes.append(ConditionalModes(block.group, block.columns, block.factor.levels, b_int @ transform.T))
    trace = replace(trace, certificate=_shared_certificate(model, x, trace, certificate))
    mu = result.mu
    family = model.family
    pearson = float(np.sum(model.weights * (model.y - mu) ** 2 / family.variance(mu)))
    npar = beta.size + theta_user.size
    df = design.nobs - npar
    messages = _messages(model, trace, singular)
    return GlmmFit(
        formula=design.formula.text,
        reml=False,
        nobs=design.nobs,
        ngroups={block.group: block.nlevels for block in design.blocks},
        objective=float(trace.fmin),
        theta=theta_user,
        theta_names=_theta_names(model),  # type: ignore[arg-type]
        fixed_names=design.fixed.names,
        beta=beta,
        vcov_beta=vcov,
        sigma=1.0,
        random_effects=tuple(comps),
        correlations=tuple(corrs),
        conditional_modes=tuple(modes),
        converged=trace.converged,
        singular=singular,
        warnings=tuple(messages),
        optimizer=trace,
        dropped_fixed=design.fixed.dropped,
        n_missing=design.n_missing,
        model=model,  # type: ignore[arg-type]
        theta_internal=theta_int,
        family=family.name,
        link=family.link.name,
        nagq=model.nagq,
        pearson_chi2=pearson,
        dispersion=pearson / df if df > 0 else float("nan"),
        deviance_residuals=float(result.devres_sum),
        vcov_method=method,
        beta_internal=beta_int,
        derivatives=certificate,
    )


def _shared_certificate(model: GlmmModel, x: np.ndarray, trace: OptTrace, cert: GlmmCertificate) -> Certificate:
    """The GLMM certificate in the terms of the linear model's (:class:`lmmdx.engine.polish.Certificate`):
    λ² = gᵀH⁻¹g over the free (θ, β), the curvature over the free θ, the θ elements held at 0."""
    nt = model.ntheta
    tau = decrement_tolerance(trace.fmin)
    lam2 = cert.newton_decrement**2 if np.isfinite(cert.newton_decrement) else float("inf")
    theta_rows = cert.free < nt
    curvature = (float(np.linalg.eigvalsh(cert.hessian[np.ix_(theta_rows, theta_rows)])[0])
                 if theta_rows.any() and np.all(np.isfinite(cert.hessian)) else float("nan"))
    grad_theta = float(np.max(np.abs(cert.gradient[theta_rows]))) if theta_rows.any() else 0.0
    held = tuple(int(i) for i in np.flatnonzero(model.layout.diagonal_mask() & (x[:nt] <= 0.0)))
    boundary_ok = not np.any(cert.boundary_derivatives < -tau)
    holds = bool(cert.positive_definite and lam2 <= tau and boundary_ok)
    note = "" if holds else ("the Hessian over (θ, β) is not positive definite" if not cert.positive_definite
                             else f"Newton decrement λ² = {lam2:.2g} above {tau:.2g}" if lam2 > tau
                             else "a variance held at 0 would lower the criterion")
    return Certificate(holds, lam2, tau, grad_theta, curvature, held, evaluations=trace.nevals, note=note)


def _messages(model: GlmmModel, trace: OptTrace, singular: bool) -> list[str]:
    design = model.design
    out = []
    if design.n_missing:
        out.append(f"dropped {design.n_missing} rows with missing values in the columns the formula uses")
    if design.fixed.dropped:
        out.append("fixed-effect model matrix is rank deficient: dropped aliased column(s) "
                   + ", ".join(design.fixed.dropped))
    if not trace.converged:
        out.append(f"optimizer {trace.optimizer} did not converge ({trace.status}, {trace.nevals} evaluations)")
    if singular:
        out.append("boundary (singular) fit: run diagnose() to see which variance components the data cannot support")
    return out
