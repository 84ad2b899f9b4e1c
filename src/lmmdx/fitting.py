"""Fit a linear mixed model: formula → design → model → optimum → :class:`Fit`."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .arguments import check_optimizer, check_reml
from .blas import single_threaded
from .boundary import BOUNDARY_TOLERANCE, correlations, is_singular
from .design import Design, build_design
from .design.frame import as_pandas
from .engine import OptTrace, Solution, Tolerances, minimize
from .engine.gradient import value_and_gradient
from .engine.optimize import chain, minimize_with_gradient
from .engine.polish import Certificate, certify
from .engine.theta import ThetaLayout
from .errors import FitError, LmmdxWarning
from .formula import parse_formula
from .model import Model
from .result import ConditionalModes, Correlation, Fit, VarComp

if TYPE_CHECKING:
    from .distributed.outofcore import DaskFit

__all__ = ["ENGINE_FAILURE", "fit", "fit_design", "fit_model"]

#: The optimiser's stopping rules in a fit: looser than lme4's 1e-8 because a converged
#: optimum is then polished by Newton steps on the closed-form gradient, which is both
#: faster and more precise than running a derivative-free optimiser to its noise floor.
FIT_TOLERANCES = Tolerances(ftol_abs=1e-6, xtol_abs=1e-6)
#: θ diagonal elements below this at the optimum trigger one restart from 1 (internal scale).
RESTART_EDGE = 1e-3
#: A restart ending within this distance (every element of internal θ, which is of order 1) of an
#: optimum already certified, and not below it, has found that optimum again.
SAME_OPTIMUM = 0.05
#: Multiples of lme4's start tried, in turn, while no optimum is certified.
RESTART_SCALES = {"small start": 0.1, "large start": 3.0}
#: From this order of the dense rest block on, an evaluation costs milliseconds: the default
#: optimiser then starts with L-BFGS-B on the closed-form gradient and BOBYQA polishes.
GRADIENT_MIN_ORDER = 200
#: BOBYQA's initial step when it polishes an L-BFGS-B optimum, and its stopping rules there
#: (relative to the criterion's size, since the gradient phase already converged).
_POLISH_STEP = 0.01
#: The polish runs only when L-BFGS-B did not converge or a θ diagonal element ended this close to 0,
#: where the closed-form gradient of a scalar term is 0 whatever the curvature.
_POLISH_NEAR_BOUND = 1e-2
_POLISH_FTOL_REL = 1e-13
_POLISH_XTOL = 1e-8


def fit(formula: str, data: Any, reml: bool = True, optimizer: str = "bobyqa", family: str | None = None,
        link: str | None = None, nagq: int = 1) -> Fit | DaskFit:
    """Fit a linear (or, with ``family``, generalised linear) mixed model written in lme4's syntax.

    Parameters
    ----------
    formula : str
        E.g. ``"y ~ x + (x | group)"``.
    data : pandas.DataFrame, polars.DataFrame, pyarrow.Table or dask.dataframe.DataFrame
        A dask DataFrame is fitted out of core, partition by partition, on the current Dask
        client (:func:`lmmdx.distributed.outofcore.fit_dask`): the result is then a
        :class:`~lmmdx.distributed.outofcore.DaskFit` (the estimates, without the rows).
    reml : bool
        REML (default) or maximum likelihood.
    optimizer : str
        A registered optimiser (``"bobyqa"``, ``"nelder_mead"``, ``"sbplx"``, ``"cobyla"``).
    family : {"binomial", "poisson"}, optional
        Fit a GLMM as lme4's ``glmer`` does (``reml`` is then ignored): see
        :func:`lmmdx.glmm_fitting.fit_glmm` for ``link`` and ``nagq``.

    Returns
    -------
    Fit
        A :class:`~lmmdx.result.GlmmFit` when ``family`` is given.

    Raises
    ------
    LmmdxError
        A one-line description of what is wrong with the formula or the data.
    """
    if type(data).__module__.split(".")[0] == "dask":  # out of core (lmmdx.distributed sits above: lazily)
        if family is not None and str(family).lower() != "gaussian":
            raise FitError("out-of-core fits (a dask DataFrame) are linear mixed models only: leave family out")
        from .distributed.outofcore import fit_dask

        return fit_dask(formula, data, reml=reml, optimizer=optimizer)
    if family is not None and str(family).lower() != "gaussian":
        from .glmm_fitting import fit_glmm

        return fit_glmm(formula, data, family, link=link, nagq=nagq, optimizer=optimizer)
    design = build_design(parse_formula(formula), as_pandas(data))
    result = fit_design(design, reml=reml, optimizer=optimizer)
    for message in result.warnings:
        warnings.warn(message, LmmdxWarning, stacklevel=2)
    return result


def fit_design(design: Design, reml: bool = True, optimizer: str = "bobyqa") -> Fit:
    """Fit a prepared :class:`Design`."""
    with _engine_guard(design.formula.text):
        model = Model.from_design(design)
    return fit_model(model, reml=reml, optimizer=optimizer)


#: Start of the message of a :class:`FitError` that stands for an unexpected engine exception.
ENGINE_FAILURE = "the engine failed"


@contextmanager
def _engine_guard(formula: str) -> Iterator[None]:
    """Turn an unexpected numerical exception of the engine into a one-line :class:`FitError`."""
    try:
        yield
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        text = str(exc).strip().splitlines()
        raise FitError(
            f"{ENGINE_FAILURE} on {formula!r} ({type(exc).__name__}: {text[0] if text else ''}); "
            "please report this with the data"
        ) from None


def fit_model(
    model: Model,
    reml: bool = True,
    optimizer: str = "bobyqa",
    start: np.ndarray | None = None,
    tolerances: Tolerances | None = None,
) -> Fit:
    """Optimise the criterion of a prepared :class:`Model` and assemble the :class:`Fit`."""
    reml, optimizer = check_reml(reml), check_optimizer(optimizer)
    with single_threaded():
        return _fit_model(model, reml, optimizer, start, tolerances)


def _fit_model(
    model: Model, reml: bool, optimizer: str, start: np.ndarray | None, tolerances: Tolerances | None
) -> Fit:
    layout = model.deviance.layout
    x0 = layout.start() if start is None else np.asarray(start, dtype=np.float64)
    formula = model.design.formula.text
    with _engine_guard(formula):
        trace = _optimize(model, reml, optimizer, x0, tolerances or FIT_TOLERANCES)
        try:
            solution = model.solve(trace.x, reml)
        except np.linalg.LinAlgError as exc:
            raise FitError(f"cannot solve the mixed-model equations at the optimum: {exc}") from None
        return assemble_fit(model, solution, trace, reml)


@dataclass(frozen=True, slots=True)
class _Run:
    """One optimisation followed by the certificate."""

    trace: OptTrace
    theta: np.ndarray
    value: float
    certificate: Certificate


def _run(model: Model, reml: bool, optimizer: str, x0: np.ndarray, tolerances: Tolerances | None,
         certified: _Run | None = None) -> _Run:
    """Minimise from x0 and certify; the certificate may use what is left of ``tolerances.maxeval``.

    A restart that ends next to an optimum already ``certified`` (within :data:`SAME_OPTIMUM`
    in every element of θ) and not below it has found that optimum again: it is not certified twice.
    """
    trace = _minimize_once(model, reml, optimizer, x0, tolerances)
    if not np.isfinite(trace.fmin) or abs(trace.fmin) >= 1e299:
        raise FitError(f"the criterion of {model.design.formula.text!r} cannot be evaluated on these data")
    if (certified is not None and certified.certificate.holds
            and trace.fmin >= certified.value - 0.5 * certified.certificate.tolerance
            and float(np.max(np.abs(trace.x - certified.theta))) <= SAME_OPTIMUM):
        return _Run(trace, certified.theta, certified.value, replace(certified.certificate, evaluations=0))
    budget = max((tolerances or Tolerances()).maxeval - trace.nevals, 0)
    theta, value, certificate = certify(model.deviance, trace.x, reml, BOUNDARY_TOLERANCE, budget)
    if not value <= trace.fmin:  # cannot happen (certify only moves downhill): keep the optimiser's point
        theta, value = trace.x, trace.fmin
    return _Run(trace, theta, value, certificate)


def _optimize(model: Model, reml: bool, optimizer: str, x0: np.ndarray, tolerances: Tolerances | None) -> OptTrace:
    """Minimise from x0 and certify the optimum; restart from other faces and starts when needed.

    A derivative-free optimiser that reaches a face of the boundary can stay on it although the
    optimum lies elsewhere (lme4's ``restart_edge`` exists for the same reason): when θ diagonal
    elements end below :data:`RESTART_EDGE`, the optimiser restarts with them at 1. When the
    certificate does not hold, it restarts from :data:`RESTART_SCALES` × lme4's start. The lowest
    certified optimum is kept (or the lowest optimum when none is certified).
    """
    runs = [_run(model, reml, optimizer, x0, tolerances)]
    labels = ["start"]
    maxeval = (tolerances or Tolerances()).maxeval

    def restart(label: str, start: np.ndarray) -> None:
        used = sum(r.trace.nevals + r.certificate.evaluations for r in runs)
        if used < maxeval:
            left = replace(tolerances or Tolerances(), maxeval=maxeval - used)
            runs.append(_run(model, reml, optimizer, start, left, runs[0]))
            labels.append(label)

    diagonal = model.deviance.layout.diagonal_mask()
    at_edge = diagonal & (runs[0].theta < RESTART_EDGE)
    if at_edge.any():
        restart("other face", np.where(at_edge, 1.0, runs[0].theta))
    if not any(r.certificate.holds for r in runs):
        base = model.deviance.layout.start()
        for label, scale in RESTART_SCALES.items():
            restart(label, scale * base)
            if runs[-1].certificate.holds:
                break
    best = min(runs, key=lambda r: r.value)
    certified = [r for r in runs if r.certificate.holds]
    if not best.certificate.holds and certified:
        closest = min(certified, key=lambda r: r.value)
        if closest.value <= best.value + 0.5 * closest.certificate.tolerance:
            best = closest
    certificate = replace(best.certificate, restarts=tuple(labels[1:]),
                          evaluations=sum(r.certificate.evaluations for r in runs))
    trace = runs[0].trace
    for run in runs[1:]:
        trace = chain(trace, run.trace)
    return replace(
        trace,
        x=best.theta,
        fmin=best.value,
        nevals=trace.nevals + certificate.evaluations,
        converged=certificate.holds,
        method=f"{trace.algorithm}+newton",
        certificate=certificate,
    )


def _minimize_once(
    model: Model, reml: bool, optimizer: str, x0: np.ndarray, tolerances: Tolerances | None
) -> OptTrace:
    """BOBYQA from x0; for large models L-BFGS-B on the closed-form gradient, polished by BOBYQA
    when it stopped early or near the boundary."""
    deviance = model.deviance
    lower = deviance.layout.lower()
    if optimizer == "bobyqa" and deviance.m >= GRADIENT_MIN_ORDER:
        first = minimize_with_gradient(lambda th: value_and_gradient(deviance, th, reml), x0, lower, tolerances)
        first = replace(first, optimizer=optimizer, method="lbfgsb")
        near_bound = np.any(first.x[deviance.layout.diagonal_mask()] < _POLISH_NEAR_BOUND)
        if first.converged and not near_bound:
            return first
        fields = _tolerance_fields(tolerances)
        fields["ftol_abs"] = max(fields["ftol_abs"], _POLISH_FTOL_REL * abs(first.fmin))
        fields["xtol_abs"] = max(fields["xtol_abs"], _POLISH_XTOL)
        polish = Tolerances(**fields, initial_step=_POLISH_STEP)
        second = minimize(lambda th: deviance(th, reml), first.x, lower, "bobyqa", polish)
        return chain(first, second)
    return minimize(lambda th: deviance(th, reml), x0, lower, optimizer, tolerances)


def _tolerance_fields(tolerances: Tolerances | None) -> dict[str, Any]:
    tol = tolerances or Tolerances()
    return {"ftol_abs": tol.ftol_abs, "xtol_abs": tol.xtol_abs, "maxeval": tol.maxeval}


def _theta_names(model: Model) -> tuple[str, ...]:
    names = []
    for block in model.design.blocks:
        k = block.k
        rows, cols = ThetaLayout.tril(k)
        for r, c in zip(rows, cols, strict=True):
            if r == c:
                names.append(f"{block.group}.{block.columns[r]}")
            else:
                names.append(f"{block.group}.{block.columns[r]}.{block.columns[c]}")
    return tuple(names)


def _var_corr(model: Model, sigma: float, factors: list[np.ndarray]) -> tuple[list[VarComp], list[Correlation]]:
    comps, corrs = [], []
    for block, t in zip(model.design.blocks, factors, strict=True):
        cov = sigma**2 * (t @ t.T)
        sd, corr = correlations(cov)
        for j, column in enumerate(block.columns):
            comps.append(VarComp(block.group, column, float(cov[j, j]), float(sd[j])))
        for j in range(block.k):
            for i in range(j + 1, block.k):
                corrs.append(Correlation(block.group, block.columns[j], block.columns[i], float(corr[i, j])))
    comps.append(VarComp("Residual", None, sigma**2, sigma))
    return comps, corrs


def _messages(model: Model, trace: OptTrace, singular: bool, factors: list[np.ndarray]) -> list[str]:
    design = model.design
    out = []
    if design.n_missing:
        out.append(f"dropped {design.n_missing} rows with missing values in the columns the formula uses")
    if design.fixed.dropped:
        out.append(
            "fixed-effect model matrix is rank deficient: dropped aliased column(s) "
            + ", ".join(design.fixed.dropped)
        )
    if not trace.converged:
        note = trace.certificate.note if trace.certificate is not None else trace.status
        out.append(f"optimizer {trace.optimizer} did not converge ({note}, {trace.nevals} evaluations)")
    if singular:
        out.append("boundary (singular) fit: run diagnose() to see which variance components the data cannot support")
    return out


def assemble_fit(model: Model, solution: Solution, trace: OptTrace, reml: bool) -> Fit:
    """Map an internal-scale :class:`Solution` back to the user's scale as a :class:`Fit`."""
    design, scaling = model.design, model.scaling
    layout = model.deviance.layout
    theta_int = solution.theta
    factors = model.factors_to_user(theta_int)
    theta_user = layout.from_factors(factors)
    singular = is_singular(theta_int, layout.diagonal_mask())
    sigma = scaling.y_scale * solution.sigma
    beta = scaling.beta_to_user(solution.beta)
    vcov = scaling.vcov_to_user(solution.vcov_beta)
    comps, corrs = _var_corr(model, sigma, factors)
    modes = []
    for block, b_int, transform in zip(design.blocks, solution.b, scaling.z_transforms, strict=True):
        b = scaling.y_scale * (b_int @ transform.T)
        modes.append(ConditionalModes(block.group, block.columns, block.factor.levels, b))
    nobs = model.blocks.n  # the design's rows, or (an out-of-core fit's row-free design) the blocks' count
    objective = solution.objective + scaling.objective_shift(nobs, design.X.shape[1], reml)
    return Fit(
        formula=design.formula.text,
        reml=reml,
        nobs=nobs,
        ngroups={block.group: block.nlevels for block in design.blocks},
        objective=float(objective),
        theta=theta_user,
        theta_names=_theta_names(model),
        fixed_names=design.fixed.names,
        beta=beta,
        vcov_beta=vcov,
        sigma=float(sigma),
        random_effects=tuple(comps),
        correlations=tuple(corrs),
        conditional_modes=tuple(modes),
        converged=trace.converged,
        singular=singular,
        warnings=tuple(_messages(model, trace, singular, factors)),
        optimizer=trace,
        dropped_fixed=design.fixed.dropped,
        n_missing=design.n_missing,
        model=model,
        theta_internal=theta_int,
    )
