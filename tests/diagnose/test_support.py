"""The data-support table: levels, observations per level, slopes, traffic light."""

from __future__ import annotations

import pytest
from diagnose_support import diagnosed_frame, fitted

from lmmdx.diagnose.support import data_support


def test_seed_factor_is_yellow():
    fit = fitted("seed")
    (row,) = data_support(fit.model.design, fit)
    assert (row.factor, row.levels, row.obs_min, row.obs_median, row.obs_max) == ("group", 8, 20, 20, 20)
    assert row.n_params == 3 and row.terms == ("(1 + x | group)",)
    assert row.rating == "yellow"
    assert any("fewer than 5 per parameter" in r for r in row.reasons)
    (slope,) = row.slopes
    assert slope.column == "x" and 0.5 < slope.within_share < 1.0
    assert slope.corr_user == pytest.approx(1.0, abs=1e-6)


def test_sleepstudy_slope_support_and_centring():
    fit = fitted("sleep")
    (row,) = data_support(fit.model.design, fit)
    assert row.rating == "green" and row.reasons == ()
    assert (row.levels, row.obs_min, row.obs_max, row.n_params) == (18, 10, 10, 3)
    (slope,) = row.slopes
    assert slope.within_share == pytest.approx(1.0)  # every subject has Days 0..9
    assert slope.origin_ratio == pytest.approx(4.5 / 2.8722813, rel=1e-6)
    assert slope.corr_user == pytest.approx(0.0656, abs=1e-3)
    # lme4 on Reaction ~ I(Days - 4.5) + (I(Days - 4.5) | Subject) gives a correlation of 0.753
    assert slope.corr_centred == pytest.approx(0.7532, abs=1e-3)


def test_penicillin_factors_are_green():
    fit = fitted("penicillin")
    rows = {r.factor: r for r in data_support(fit.model.design, fit)}
    assert rows["plate"].levels == 24 and rows["sample"].levels == 6
    assert rows["plate"].rating == rows["sample"].rating == "green"


def test_red_ratings():
    between = next(r for r in diagnosed_frame("between").support if r.factor == "g")
    assert between.rating == "red" and between.slopes[0].within_share < 1e-12
    single = diagnosed_frame("one_per_level").support[0]
    assert single.rating == "red" and single.saturated_share == 1.0 and single.obs_max == 1
