"""Wald intervals, the confint dispatch, and the honesty flags on them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from support import INFERENCE_REFERENCE, reference_fit, same_parameter

import lmmdx


@pytest.mark.parametrize("key", sorted(INFERENCE_REFERENCE))
def test_wald_with_normal_quantiles_matches_lme4(key):
    ours = reference_fit(key).confint("wald", ddf=None)
    reference = INFERENCE_REFERENCE[key]["confint_wald_95"]
    for interval, row in zip(ours.intervals, reference, strict=True):
        assert same_parameter(interval.parameter, row["name"])
        if row["2.5 %"] is None:  # lme4 gives no Wald intervals for variance parameters
            continue
        assert interval.lower == pytest.approx(row["2.5 %"], rel=1e-4, abs=1e-6)
        assert interval.upper == pytest.approx(row["97.5 %"], rel=1e-4, abs=1e-6)


def test_wald_uses_satterthwaite_t_quantiles():
    fit = reference_fit("sleepstudy_slope_reml")
    interval = fit.confint("wald")["Days"]
    df = fit.coef_tests()[1].df
    half = stats.t.ppf(0.975, df) * fit.std_errors[1]
    assert interval.lower == pytest.approx(fit.beta[1] - half, rel=1e-12)
    assert interval.upper == pytest.approx(fit.beta[1] + half, rel=1e-12)


def test_every_parameter_is_covered_in_order():
    fit = reference_fit("sleepstudy_slope_reml")
    names = fit.confint("wald").names
    assert names == ("sd_(Intercept)|Subject", "cor_Days.(Intercept)|Subject", "sd_Days|Subject", "sigma",
                     "(Intercept)", "Days")
    frame = fit.confint("wald", level=0.9).to_frame()
    assert list(frame.columns) == ["estimate", "5 %", "95 %", "reliable"]
    assert frame.loc["sigma", "estimate"] == pytest.approx(fit.sigma)


def test_variance_wald_intervals_bracket_the_estimate():
    fit = reference_fit("sleepstudy_slope_reml")
    for interval in fit.confint("wald").intervals:
        assert interval.reliable
        assert interval.lower < interval.estimate < interval.upper


def test_singular_fit_flags_every_wald_interval():
    result = reference_fit("seed_example_slope_reml").confint("wald")
    assert not any(i.reliable for i in result.intervals)
    assert any("singular" in note for note in result.notes)
    corr = result["cor_x.(Intercept)|group"]
    assert np.isnan(corr.lower) and np.isnan(corr.upper)  # no Wald interval at ρ̂ = 1
    assert "profile" in corr.note


def test_bad_method_and_level():
    fit = reference_fit("dyestuff_reml")
    with pytest.raises(lmmdx.LmmdxError, match="unknown interval method"):
        fit.confint("likelihood")
    with pytest.raises(lmmdx.LmmdxError, match="between 0 and 1"):
        fit.confint("wald", level=95)
