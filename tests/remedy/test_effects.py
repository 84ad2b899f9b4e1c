"""Effects of interest: t intervals and p-values from estimate, SE and df."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from lmmdx.remedy.effects import effect_estimate, missing


def test_t_interval_and_p_value():
    e = effect_estimate("x", 2.0, 1.0, 10.0)
    half = stats.t.ppf(0.975, 10)
    assert (e.ci_lower, e.ci_upper) == pytest.approx((2.0 - half, 2.0 + half))
    assert e.p_value == pytest.approx(2 * stats.t.sf(2.0, 10))


def test_unknown_df_falls_back_to_the_normal_and_a_given_p_is_kept():
    e = effect_estimate("x", 2.0, 1.0, float("nan"))
    assert e.ci_upper == pytest.approx(2.0 + stats.norm.ppf(0.975))
    assert effect_estimate("x", 2.0, 1.0, 5.0, p=0.123).p_value == 0.123


def test_not_estimable():
    (e,) = missing(("x",))
    assert not e.estimable and math.isnan(e.p_value) and math.isnan(e.ci_lower)
