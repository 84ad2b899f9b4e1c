"""Parameter names (lme4's confint names) and the SD/correlation scale."""

from __future__ import annotations

import numpy as np
import pytest
from support import reference_fit

from lmmdx.inference.parameters import factors_from_sdcor, fit_parameters, parameters, sdcor


def test_names_and_values_in_lme4_order():
    fit = reference_fit("sleepstudy_slope_reml")
    params = parameters(fit.model)
    assert [p.name for p in params] == ["sd_(Intercept)|Subject", "cor_Days.(Intercept)|Subject", "sd_Days|Subject",
                                        "sigma", "(Intercept)", "Days"]
    values = fit_parameters(fit)
    assert values[0] == pytest.approx(fit.random_effects[0].sd)
    assert values[1] == pytest.approx(fit.correlations[0].corr)
    assert values[3] == pytest.approx(fit.sigma)
    assert values[4:] == pytest.approx(fit.beta)
    assert [p.lower_bound for p in params[:4]] == [0.0, -1.0, 0.0, 0.0]


@pytest.mark.parametrize("key", ["sleepstudy_slope_reml", "seed_example_slope_reml", "pastes_nested_reml"])
def test_sdcor_round_trip(key):
    fit = reference_fit(key)
    layout = fit.model.deviance.layout
    values = sdcor(layout, fit.theta, fit.sigma)
    factors = factors_from_sdcor(layout, values)
    for t, t_fit in zip(factors, layout.factors(fit.theta), strict=True):
        np.testing.assert_allclose(t @ t.T, t_fit @ t_fit.T, atol=1e-12)
    assert factors_from_sdcor(layout, np.append(values[:-1], 0.0)) is None


def test_invalid_correlations_are_refused():
    layout = reference_fit("sleepstudy_slope_reml").model.deviance.layout
    assert factors_from_sdcor(layout, np.array([1.0, 1.5, 1.0, 1.0])) is None
