"""GLMM inference: Wald z, profile and bootstrap intervals, simulate/refit, the boundary-corrected LRT."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import DATA

import lmmdx

GLMM = DATA / "glmm"
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"


@pytest.fixture(scope="module")
def cbpp():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(CBPP, pd.read_csv(GLMM / "cbpp.csv"), family="binomial")


def test_profile_intervals_bracket_the_estimates_and_reach_the_level(cbpp):
    prof = {i.parameter: i for i in cbpp.confint("profile").intervals}
    wald = {i.parameter: i for i in cbpp.confint("wald").intervals}
    for name in ("(Intercept)", "period"):
        p, w = prof[name], wald[name]
        assert p.lower < p.estimate < p.upper and p.reliable
        # nearly quadratic profiles for β: within 10% of the Wald half-widths
        assert p.upper - p.lower == pytest.approx(w.upper - w.lower, rel=0.1)
    sd = prof["sd_(Intercept)|herd"]
    assert 0 < sd.lower < sd.estimate < sd.upper
    # the limits are where the deviance rose by z² (checked at the upper limit of period)
    from lmmdx.inference.glmm import _profile_value

    x = np.concatenate([cbpp.theta_internal, cbpp.beta_internal])
    warm = {"x": x, "u": cbpp.derivatives.modes}
    dev = _profile_value(cbpp, 1, prof["period"].upper, cbpp.glmm.scaling.x_transform, warm)
    assert dev - cbpp.objective == pytest.approx(1.959964**2, abs=2e-3)


def test_simulate_and_refit(cbpp):
    sims = cbpp.simulate(3, seed=1)
    assert sims.shape == (3, cbpp.nobs)
    trials = cbpp.glmm.weights
    assert np.allclose(sims * trials, np.rint(sims * trials)) and np.all((sims >= 0) & (sims <= 1))
    assert np.array_equal(sims, cbpp.simulate(3, seed=1))
    again = cbpp.refit(cbpp.glmm.y)
    assert again.objective == pytest.approx(cbpp.objective, abs=1e-6)
    other = cbpp.refit(sims[0])
    assert other.family == "binomial" and np.isfinite(other.objective)


def test_bootstrap_intervals_are_seeded(cbpp):
    a = cbpp.confint("bootstrap", nsim=20, seed=3)
    b = cbpp.confint("bootstrap", nsim=20, seed=3)
    assert [(i.lower, i.upper) for i in a.intervals] == [(i.lower, i.upper) for i in b.intervals]
    period = next(i for i in a.intervals if i.parameter == "period")
    assert period.lower < period.estimate < period.upper


def test_lrt_of_nested_glmms_uses_the_boundary_mixture():
    data = pd.read_csv(GLMM / "seed_binomial.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        large = lmmdx.fit("y ~ x + (x | group)", data, family="binomial")
        result = lmmdx.compare(large, "y ~ x + (1 | group)")
    assert result.df == 2 and result.statistic == pytest.approx(
        result.small.objective - result.large.objective, abs=1e-9)
    assert result.p_value_boundary is not None and result.p_value_boundary < result.p_value
    assert [d for _, d in result.mixture] == [1, 2]


def test_lrt_of_a_fixed_effect(cbpp):
    result = lmmdx.compare(cbpp, "cbind(incidence, size - incidence) ~ 1 + (1 | herd)")
    assert result.df == 1 and result.statistic > 20 and result.p_value < 1e-5
