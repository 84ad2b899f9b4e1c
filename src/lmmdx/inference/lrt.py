"""Likelihood-ratio tests of nested models, honest at the boundary.

``compare(a, b)`` orders the models by their number of parameters, checks that they
were fitted to the same rows and are nested, refits them by ML when their fixed
parts differ (REML criteria of different fixed parts are not comparable; lme4's
``anova`` always refits), and reports beside the naive χ² p-value the p-value from
the chi-bar-square null distribution of :mod:`.structure` and, on request, a
parametric-bootstrap p-value (simulate from the smaller model, refit both;
``(1 + #{T* ≥ T}) / (1 + N)``, as pbkrtest's ``PBmodcomp``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ..design import Design, build_design
from ..errors import LmmdxError
from ..fitting import fit_design, fit_model
from ..formula import parse_formula
from ..result import Fit, GlmmFit
from ..simulate import GlmmRefitter, Refitter, Simulator
from .bootstrap import run_replicates
from .ols import OlsFit, fit_ols
from .structure import Mixture, NotNested, null_mixture

if TYPE_CHECKING:
    from .bootstrap import ProgressFn

__all__ = ["Comparison", "ModelRow", "compare"]

AnyFit = Fit | OlsFit
#: Column-space test of nested fixed parts: relative residual of X_small on X_large.
_NESTED_TOL = 1e-8


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One model of a comparison, as lme4's ``anova`` lists it."""

    formula: str
    npar: int
    aic: float
    bic: float
    loglik: float
    objective: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """A likelihood-ratio test of a smaller model against a larger one.

    Attributes
    ----------
    small, large : ModelRow
    criterion : str
        ``"ML"`` or ``"REML"``: what the statistic compares.
    refitted : bool
        The models were refitted by ML because their fixed parts differ.
    statistic : float
        ``−2 (log L_small − log L_large)``, at least 0.
    df : int
    p_value : float
        Naive: χ² with ``df`` degrees of freedom.
    p_value_boundary : float or None
        From the chi-bar-square mixture (None when it has no closed form).
    mixture : tuple of (weight, df)
    boundary : tuple of str
        Random effects the smaller model sets to zero.
    p_value_bootstrap : float or None
    nsim : int
        Bootstrap samples used (0: none).
    notes : tuple of str
    """

    small: ModelRow
    large: ModelRow
    criterion: str
    refitted: bool
    statistic: float
    df: int
    p_value: float
    p_value_boundary: float | None
    mixture: tuple[tuple[float, int], ...]
    boundary: tuple[str, ...]
    p_value_bootstrap: float | None
    nsim: int
    notes: tuple[str, ...]

    def __str__(self) -> str:
        from ..report.inference import comparison_text

        return "\n".join(comparison_text(self))


def _design(fit: AnyFit) -> Design:
    return fit.design if isinstance(fit, OlsFit) else fit.model.design


def _from_formula(text: str, other: AnyFit) -> AnyFit:
    parsed = parse_formula(text)
    frame = _design(other).frame
    if isinstance(other, GlmmFit):
        if not parsed.random:
            raise LmmdxError("compare() of a GLMM with a GLM (no random effects) is not available yet")
        from ..glmm_fitting import fit_glmm_design

        design = build_design(parsed, frame, family=other.family)
        return fit_glmm_design(design, link=other.link)
    if not parsed.random:
        return fit_ols(build_design(parsed, frame, fixed_only=True), other.reml)
    return fit_design(build_design(parsed, frame), reml=other.reml)


def _resolve(a: AnyFit | str, b: AnyFit | str) -> tuple[AnyFit, AnyFit]:
    if isinstance(a, str) and isinstance(b, str):
        raise LmmdxError("compare() needs at least one fitted model; the other may be a formula")
    if isinstance(a, str):
        a = _from_formula(a, b)  # type: ignore[arg-type]
    if isinstance(b, str):
        b = _from_formula(b, a)
    for f in (a, b):
        if not isinstance(f, (Fit, OlsFit)):
            raise LmmdxError(f"compare() takes fitted models or formulas, not {type(f).__name__}")
    return a, b


def _check_rows(a: AnyFit, b: AnyFit) -> None:
    da, db = _design(a), _design(b)
    same = da.nobs == db.nobs and np.array_equal(da.row_index, db.row_index) and np.array_equal(da.response, db.response)
    if not same:
        raise LmmdxError(
            f"the models were fitted to different rows or responses ({da.nobs} and {db.nobs} observations): "
            "fit both to the same data, without missing values in the columns either uses"
        )


def _fixed_df(small: Design, large: Design) -> int:
    xs, xl = small.X, large.X
    if xs.shape[1]:
        coef, *_ = np.linalg.lstsq(xl, xs, rcond=None) if xl.shape[1] else (np.zeros((0, xs.shape[1])),)
        resid = np.linalg.norm(xs - xl @ coef, axis=0)
        if np.any(resid > _NESTED_TOL * np.maximum(np.linalg.norm(xs, axis=0), 1.0)):
            raise NotNested("the fixed effects of the smaller model are not within those of the larger one")
    return xl.shape[1] - xs.shape[1]


def _refit_ml(fit: AnyFit) -> AnyFit:
    if not fit.reml:
        return fit
    if isinstance(fit, OlsFit):
        return fit_ols(fit.design, reml=False)
    return fit_model(fit.model, reml=False, optimizer=fit.optimizer.optimizer, start=fit.theta_internal)


def _row(fit: AnyFit) -> ModelRow:
    return ModelRow(fit.formula, fit.npar, fit.aic, fit.bic, fit.loglik, fit.objective)


def _mixture_p(mixture: Mixture, statistic: float) -> float | None:
    if not mixture.components:
        return None
    return float(sum(w * (special.chdtrc(d, statistic) if d > 0 else float(statistic <= 0))
                     for w, d in mixture.components))


def _criterion(fit: AnyFit, reml: bool) -> Callable[[np.ndarray], float]:
    """The criterion of ``fit``'s model refitted to a response (picklable for OLS and LMM)."""
    if isinstance(fit, OlsFit):
        return partial(_ols_criterion, fit.design, reml)
    if isinstance(fit, GlmmFit):
        return partial(_glmm_criterion, GlmmRefitter(fit))
    return partial(_lmm_criterion, Refitter.from_fit(fit, reml))


def _glmm_criterion(refitter: GlmmRefitter, y: np.ndarray) -> float:
    return refitter(y).objective


def _ols_criterion(design: Design, reml: bool, y: np.ndarray) -> float:
    return fit_ols(replace(design, y=y if design.offset is None else y - design.offset), reml).objective


def _lmm_criterion(refitter: Refitter, y: np.ndarray) -> float:
    return refitter(y).objective


class LrtReplicate:
    """Simulate from the smaller model, refit both, return the LR statistic (picklable)."""

    width = 1

    def __init__(self, small: AnyFit, large: AnyFit, reml: bool) -> None:
        self.small, self.large = _criterion(small, reml), _criterion(large, reml)
        if isinstance(small, OlsFit):
            self.mean, self.sigma, self.simulator = small.fitted, small.sigma, None
        else:
            self.simulator = Simulator.from_fit(small)

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        if self.simulator is None:
            y = self.mean + self.sigma * rng.standard_normal(self.mean.shape[0])
        else:
            y = self.simulator.draw(rng)
        try:
            value = self.small(y) - self.large(y)
        except (LmmdxError, np.linalg.LinAlgError, ValueError):
            return np.array([np.nan])
        return np.array([max(value, 0.0)])


def compare(
    fit_a: AnyFit | str,
    fit_b: AnyFit | str,
    bootstrap: int = 0,
    *,
    seed: int | None = None,
    workers: int = 1,
    progress: ProgressFn | None = None,
    ml: bool = False,
) -> Comparison:
    """Likelihood-ratio test of two nested models.

    Parameters
    ----------
    fit_a, fit_b : Fit, OlsFit or str
        Fitted models, or one of them as a formula, fitted to the other's data (a
        formula without random effects is fitted by least squares).
    bootstrap : int
        Parametric-bootstrap samples for a third p-value (0: none).
    seed, workers, progress
        For the bootstrap (see :func:`~lmmdx.inference.bootstrap.run_replicates`).
    ml : bool
        Compare ML fits even when the fixed parts agree (REML is used then otherwise).

    Raises
    ------
    LmmdxError
        Models fitted to different rows, not nested, or with equally many parameters.
    """
    a, b = _resolve(fit_a, fit_b)
    _check_rows(a, b)
    if a.npar == b.npar:
        raise NotNested(f"both models have {a.npar} parameters, so neither is nested in the other")
    small, large = (a, b) if a.npar < b.npar else (b, a)
    fixed_df = _fixed_df(_design(small), _design(large))
    mixture = null_mixture(_design(small), _design(large), fixed_df)
    df = large.npar - small.npar
    if max((d for _, d in mixture.components), default=df) != df:
        raise NotNested("the parameters of the smaller model do not map onto those of the larger one")
    notes: list[str] = []
    xs, xl = _design(small).X, _design(large).X
    same_fixed = xs.shape == xl.shape and bool(np.allclose(xs, xl))
    refitted = (small.reml or large.reml) and (ml or not same_fixed or small.reml != large.reml)
    if refitted:
        why = (
            "the fixed effects differ (REML criteria of different fixed parts are not comparable)"
            if not same_fixed
            else "ml=True was asked for" if ml else "one model was fitted by ML"
        )
        notes.append(f"both models refitted by ML because {why}")
        small, large = _refit_ml(small), _refit_ml(large)
    reml = bool(small.reml)
    statistic = max(small.objective - large.objective, 0.0)
    p_naive = float(special.chdtrc(df, statistic))
    p_mix = _mixture_p(mixture, statistic)
    if mixture.reason:
        notes.append(mixture.reason)
    elif mixture.boundary:
        terms = " + ".join(f"{w:g} chi2({d})" for w, d in mixture.components)
        notes.append(f"{', '.join(mixture.boundary)} set to the boundary: null distribution {terms}")
    p_boot = None
    if bootstrap:
        rows = run_replicates(LrtReplicate(small, large, reml), int(bootstrap), seed, workers, progress)[:, 0]
        ok = rows[~np.isnan(rows)]
        if ok.size:
            p_boot = float((1 + np.sum(ok >= statistic - 1e-10)) / (1 + ok.size))
        if ok.size < rows.size:
            notes.append(f"{rows.size - ok.size} of {rows.size} bootstrap refits failed and were left out")
    return Comparison(
        _row(small), _row(large), "REML" if reml else "ML", refitted, statistic, df, p_naive, p_mix,
        mixture.components, mixture.boundary, p_boot, int(bootstrap), tuple(notes),
    )
