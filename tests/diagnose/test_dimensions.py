"""rePCA and likelihood-ratio tests of random-effect dimensions and slopes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from diagnose_support import fitted
from scipy import optimize, stats
from support import REFERENCE, load

import lmmdx
from lmmdx.diagnose.dimensions import drop_effect, term_pca, weakest_dimension


def test_repca_matches_lme4():
    pca = term_pca(fitted("seed"), 0)
    assert pca.sdev == pytest.approx(REFERENCE["seed_example_slope_reml"]["repca_sd"]["group"], abs=1e-4)
    assert pca.supported == 1
    assert pca.proportions == pytest.approx([1.0, 0.0], abs=1e-8)
    assert np.abs(pca.loadings[:, 1]) == pytest.approx([np.sqrt(0.5)] * 2, abs=1e-6)
    sleep = term_pca(fitted("sleep"), 0)
    assert sleep.supported == 2


def test_dropping_the_sleepstudy_slope_matches_lme4s_criteria():
    test = drop_effect(fitted("sleep"), 0, 1)
    expected = REFERENCE["sleepstudy_intercept_reml"]["objective"] - REFERENCE["sleepstudy_slope_reml"]["objective"]
    assert test.statistic == pytest.approx(expected, abs=1e-4)
    assert test.p_value == pytest.approx(0.5 * stats.chi2.sf(expected, 1) + 0.5 * stats.chi2.sf(expected, 2))


def test_scalar_term_test_equals_a_refit_without_it():
    fit = fitted("seed_zerocorr")
    slope_block = next(i for i, b in enumerate(fit.model.design.blocks) if b.columns == ("x",))
    test = weakest_dimension(fit, slope_block)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reduced = lmmdx.fit("y ~ x + (1 | group)", load("seed_example.csv"))
    assert test.statistic == pytest.approx(reduced.objective - fit.objective, abs=1e-5)
    assert test.p_value == pytest.approx(0.5 * stats.chi2.sf(test.statistic, 1))
    assert test.p_value > 0.05


def test_sleepstudy_needs_both_dimensions():
    fit = fitted("sleep")
    test = weakest_dimension(fit, 0)
    # the rank-1 optimum, found independently by Nelder-Mead from several starts
    best = min(
        optimize.minimize(lambda ab: fit.model.deviance(np.array([abs(ab[0]), ab[1], 0.0]), True), start,
                          method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 5000}).fun
        for start in ([1.0, 0.5], [1.0, -0.5], [0.2, 2.0], [2.0, -2.0])
    )
    assert test.statistic == pytest.approx(best - fit.model.deviance(fit.theta_internal, True), abs=1e-6)
    assert test.statistic > 5 and test.p_value < 1e-2
