"""The penalised fit reaches blme's optimum on the seed example from any start, with any optimiser."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import load

import lmmdx
from lmmdx.remedy.penalised import PENALIZED_OPTIMIZERS, blme_penalty, fit_penalized

#: blme 1.0-5, blmer(y ~ x + (x | group), seed_example, REML = TRUE) with its default prior,
#: at the optimum of its criterion (reached by its Nelder–Mead), printed to three decimals.
BLME = {"sd_intercept": 1.629, "sd_slope": 0.342, "corr": 0.778, "sigma": 0.947, "beta": (2.335, 1.021)}

#: Internal θ = (λ₁₁, λ₂₁, λ₂₂) starting points: lme4's, near the boundary, huge, skewed, random.
STARTS = [(1.0, 0.0, 1.0), (1e-3, 0.0, 1e-3), (20.0, 5.0, 20.0), (0.5, -3.0, 2.0), (3.0, 3.0, 1e-3)] + [
    tuple(v) for v in np.abs(np.random.default_rng(6).normal(scale=2.0, size=(3, 3))) * [1, -1, 1]
]


@pytest.fixture(scope="module")
def seed_fit() -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit("y ~ x + (x | group)", load("seed_example.csv"))


def _summary(fit: lmmdx.Fit) -> dict[str, object]:
    sds = [c.sd for c in fit.random_effects]
    return {
        "sd_intercept": sds[0],
        "sd_slope": sds[1],
        "corr": fit.correlations[0].corr,
        "sigma": fit.sigma,
        "beta": tuple(fit.beta),
    }


def _close(ours: float, printed: float) -> bool:
    # 1e-3 relative, plus half a unit in the last printed digit of blme's value
    return abs(ours - printed) <= 1e-3 * abs(printed) + 5e-4


@pytest.mark.parametrize("optimizer", PENALIZED_OPTIMIZERS)
def test_blme_optimum_from_every_start(seed_fit, optimizer):
    first = None
    for start in STARTS:
        pen = fit_penalized(seed_fit.model, True, optimizers=(optimizer,), starts=[("test", np.array(start))])
        got = _summary(pen.fit)
        for key in ("sd_intercept", "sd_slope", "corr", "sigma"):
            assert _close(got[key], BLME[key]), (optimizer, start, key, got[key])
        for ours, printed in zip(got["beta"], BLME["beta"], strict=True):
            assert _close(ours, printed), (optimizer, start, got["beta"])
        first = first or pen.criterion
        assert pen.criterion == pytest.approx(first, abs=1e-6)


def test_default_runs_agree_and_stay_inside_the_parameter_space(seed_fit):
    pen = fit_penalized(seed_fit.model, True, theta_hint=seed_fit.theta_internal)
    assert pen.agree, pen.describe()
    assert {r.optimizer for r in pen.runs} == set(PENALIZED_OPTIMIZERS)
    assert len({r.start for r in pen.runs}) >= 4
    fit = pen.fit
    assert not fit.singular
    assert fit.random_effects[1].sd > 0.1  # the REML fit is at the boundary: correlation exactly 1
    assert -0.99 < fit.correlations[0].corr < 0.99
    # the estimates are those of blme; the reported loglik is the REML one at them (below the REML maximum)
    assert fit.loglik < seed_fit.loglik
    assert pen.criterion == pytest.approx(fit.objective + pen.penalty, abs=1e-8)


def test_penalty_is_infinite_on_the_boundary_and_minus_three_log_lambda_inside(seed_fit):
    penalty = blme_penalty(seed_fit.model.deviance.layout)
    assert penalty(np.array([1.0, 0.3, 0.0])) == np.inf
    assert penalty(np.array([2.0, -5.0, 0.5])) == pytest.approx(-3.0 * (np.log(2.0) + np.log(0.5)))


def test_a_zero_variance_is_pulled_off_the_boundary():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("Yield ~ 1 + (1 | Batch)", load("Dyestuff2.csv"))
    assert fit.singular
    pen = fit_penalized(fit.model, True, theta_hint=fit.theta_internal)
    assert pen.agree and pen.fit.random_effects[0].sd > 0.5 and not pen.fit.singular


def test_satterthwaite_df_use_the_curvature_of_the_penalised_criterion(seed_fit):
    from lmmdx.inference.ddf import Tester

    pen = fit_penalized(seed_fit.model, True, theta_hint=seed_fit.theta_internal)
    penalty = blme_penalty(pen.fit.model.deviance.layout)
    (_, x) = Tester(pen.fit, "satterthwaite", penalty).coefficients()
    (_, x_flat) = Tester(pen.fit, "satterthwaite").coefficients()
    # 5.892: an independent central-difference computation over internal (θ, σ) at the same optimum
    assert x.df == pytest.approx(5.892, rel=2e-3)
    assert x.df != pytest.approx(x_flat.df, rel=1e-2)  # the unpenalised curvature would not be at its optimum
    assert x.std_error == pytest.approx(0.1473, abs=1e-4)
