"""Fit a linear mixed model: formula → design → model → optimum → :class:`Fit`."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .design import Design, build_design
from .design.frame import as_pandas
from .engine import OptTrace, Solution, Tolerances, minimize
from .errors import FitError, LmmdxWarning
from .formula import parse_formula
from .model import Model
from .result import ConditionalModes, Correlation, Fit, VarComp

__all__ = ["BOUNDARY_SNAP", "ENGINE_FAILURE", "SINGULAR_TOLERANCE", "fit", "fit_design", "fit_model"]

#: lme4's isSingular() tolerance on the diagonal of the relative covariance factors.
SINGULAR_TOLERANCE = 1e-4
#: Diagonal elements of θ below this are tried at exactly 0 after the optimiser stops,
#: and kept there when that does not worsen the criterion (as MixedModels.jl does).
BOUNDARY_SNAP = 1e-4
#: "Does not worsen": the criterion may rise by at most this much.
_SNAP_SLACK = 1e-9


def fit(formula: str, data: Any, reml: bool = True, optimizer: str = "bobyqa") -> Fit:
    """Fit a linear mixed model written in lme4's formula syntax.

    Parameters
    ----------
    formula : str
        E.g. ``"y ~ x + (x | group)"``.
    data : pandas.DataFrame, polars.DataFrame or pyarrow.Table
    reml : bool
        REML (default) or maximum likelihood.
    optimizer : str
        A registered optimiser (``"bobyqa"``, ``"nelder_mead"``, ``"sbplx"``, ``"cobyla"``).

    Returns
    -------
    Fit

    Raises
    ------
    LmmdxError
        A one-line description of what is wrong with the formula or the data.
    """
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


def _snap_to_boundary(model: Model, theta: np.ndarray, fmin: float, reml: bool) -> tuple[np.ndarray, float]:
    diag = model.deviance.layout.diagonal_mask()
    small = diag & (theta < BOUNDARY_SNAP) & (theta != 0.0)
    if not small.any():
        return theta, fmin
    candidate = np.where(small, 0.0, theta)
    value = model.deviance(candidate, reml)
    if value <= fmin + _SNAP_SLACK * max(1.0, abs(fmin)):
        return candidate, value
    return theta, fmin


def fit_model(
    model: Model,
    reml: bool = True,
    optimizer: str = "bobyqa",
    start: np.ndarray | None = None,
    tolerances: Tolerances | None = None,
) -> Fit:
    """Optimise the criterion of a prepared :class:`Model` and assemble the :class:`Fit`."""
    layout = model.deviance.layout
    x0 = layout.start() if start is None else np.asarray(start, dtype=np.float64)
    formula = model.design.formula.text
    with _engine_guard(formula):
        trace = minimize(lambda th: model.deviance(th, reml), x0, layout.lower(), optimizer, tolerances)
    if not np.isfinite(trace.fmin) or abs(trace.fmin) >= 1e299:
        raise FitError(f"the criterion of {formula!r} cannot be evaluated on these data")
    with _engine_guard(formula):
        theta, _ = _snap_to_boundary(model, trace.x, trace.fmin, reml)
        try:
            solution = model.solve(theta, reml)
        except np.linalg.LinAlgError as exc:
            raise FitError(f"cannot solve the mixed-model equations at the optimum: {exc}") from None
        return assemble_fit(model, solution, trace, reml)


def _theta_names(model: Model) -> tuple[str, ...]:
    names = []
    for block in model.design.blocks:
        k = block.k
        cols, rows = np.triu_indices(k)
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
        sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
        for j, column in enumerate(block.columns):
            comps.append(VarComp(block.group, column, float(cov[j, j]), float(sd[j])))
        for j in range(block.k):
            for i in range(j + 1, block.k):
                denom = sd[i] * sd[j]
                value = float(cov[i, j] / denom) if denom > 0 else float("nan")
                corrs.append(Correlation(block.group, block.columns[j], block.columns[i], value))
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
        out.append(f"optimizer {trace.optimizer} did not converge ({trace.status}, {trace.nevals} evaluations)")
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
    singular = bool(np.any(theta_int[layout.diagonal_mask()] < SINGULAR_TOLERANCE))
    sigma = scaling.y_scale * solution.sigma
    beta = scaling.beta_to_user(solution.beta)
    vcov = scaling.vcov_to_user(solution.vcov_beta)
    comps, corrs = _var_corr(model, sigma, factors)
    modes, fitted = [], design.X @ beta
    for block, b_int, transform in zip(design.blocks, solution.b, scaling.z_transforms, strict=True):
        b = scaling.y_scale * (b_int @ transform.T)
        modes.append(ConditionalModes(block.group, block.columns, block.factor.levels, b))
        fitted = fitted + np.einsum("ij,ij->i", block.values, b[block.factor.codes])
    objective = solution.objective + scaling.objective_shift(design.nobs, design.X.shape[1], reml)
    return Fit(
        formula=design.formula.text,
        reml=reml,
        nobs=design.nobs,
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
        fitted=fitted,
        residuals=design.y - fitted,
        converged=trace.converged,
        singular=singular,
        warnings=tuple(_messages(model, trace, singular, factors)),
        optimizer=trace,
        dropped_fixed=design.fixed.dropped,
        n_missing=design.n_missing,
        model=model,
        theta_internal=theta_int,
    )
