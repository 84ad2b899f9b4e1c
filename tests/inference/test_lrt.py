"""Likelihood-ratio tests: boundary mixtures, refits by ML, nesting and row checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from support import REFERENCE, load, reference_fit

import lmmdx
from lmmdx.inference.lrt import compare


def ols_criteria(y, X):
    """ML deviance and REML criterion of least squares, from their textbook formulas."""
    n, p = X.shape
    rss = float(np.sum((y - X @ np.linalg.lstsq(X, y, rcond=None)[0]) ** 2))
    ml = n * np.log(2 * np.pi * rss / n) + n
    reml = (n - p) * np.log(2 * np.pi * rss / (n - p)) + (n - p) + np.linalg.slogdet(X.T @ X)[1]
    return ml, reml


def test_dyestuff_random_intercept_boundary_p_is_half_the_naive_one():
    fit = reference_fit("dyestuff_reml")
    result = lmmdx.compare(fit, "Yield ~ 1")
    y = load("Dyestuff.csv")["Yield"].to_numpy(float)
    _, reml = ols_criteria(y, np.ones((y.size, 1)))
    assert result.criterion == "REML" and not result.refitted
    assert result.statistic == pytest.approx(reml - REFERENCE["dyestuff_reml"]["objective"], abs=1e-6)
    assert result.df == 1
    assert result.p_value == pytest.approx(stats.chi2.sf(result.statistic, 1), rel=1e-12)
    assert result.p_value_boundary == pytest.approx(0.5 * result.p_value, rel=1e-12)
    assert result.mixture == ((0.5, 0), (0.5, 1))
    assert result.boundary == ("(Intercept)|Batch",)


def test_dyestuff_by_ml_as_lme4s_anova():
    fit = reference_fit("dyestuff_reml")
    result = compare(fit, "Yield ~ 1", ml=True)
    y = load("Dyestuff.csv")["Yield"].to_numpy(float)
    ml, _ = ols_criteria(y, np.ones((y.size, 1)))
    assert result.criterion == "ML" and result.refitted
    assert result.statistic == pytest.approx(ml - REFERENCE["dyestuff_ml"]["objective"], abs=1e-6)
    assert result.p_value_boundary == pytest.approx(0.5 * result.p_value, rel=1e-12)
    assert result.large.aic == pytest.approx(REFERENCE["dyestuff_ml"]["aic"], abs=1e-4)


@pytest.fixture(scope="module")
def sleep():
    data = load("sleepstudy.csv")
    out = {}
    formulas = {"slope": "Reaction ~ Days + (Days | Subject)", "zerocorr": "Reaction ~ Days + (Days || Subject)",
                "intercept": "Reaction ~ Days + (1 | Subject)", "nodays": "Reaction ~ 1 + (Days | Subject)",
                "item": "Reaction ~ Days + (1 | Days)"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        for key, formula in formulas.items():
            out[key] = lmmdx.fit(formula, data)
    return out


def test_dropping_a_slope_and_its_covariance_is_a_stram_lee_mixture(sleep):
    result = compare(sleep["slope"], sleep["intercept"])
    assert result.df == 2 and result.mixture == ((0.5, 1), (0.5, 2))
    expected = 0.5 * stats.chi2.sf(result.statistic, 1) + 0.5 * stats.chi2.sf(result.statistic, 2)
    assert result.p_value_boundary == pytest.approx(expected, rel=1e-12)
    assert result.statistic == pytest.approx(
        REFERENCE["sleepstudy_intercept_reml"]["objective"] - REFERENCE["sleepstudy_slope_reml"]["objective"], abs=1e-4)


def test_dropping_a_correlation_is_interior(sleep):
    result = compare(sleep["zerocorr"], sleep["slope"])
    assert result.df == 1 and result.boundary == () and result.mixture == ((1.0, 1),)
    assert result.p_value_boundary == pytest.approx(result.p_value)


def test_different_fixed_parts_are_refitted_by_ml(sleep):
    result = compare(sleep["slope"], sleep["nodays"], bootstrap=20, seed=1, workers=2)
    assert 0 < result.p_value_bootstrap <= 1
    assert result.refitted and result.criterion == "ML"
    assert any("refitted by ML" in note for note in result.notes)
    assert result.large.objective == pytest.approx(REFERENCE["sleepstudy_slope_ml"]["objective"], abs=1e-4)


def test_not_nested_is_one_line_error(sleep):
    with pytest.raises(lmmdx.LmmdxError, match="not nested|not in the other|not within") as info:
        compare(sleep["slope"], sleep["item"])
    assert "\n" not in str(info.value)
    with pytest.raises(lmmdx.LmmdxError, match="neither is nested"):
        compare(sleep["zerocorr"], lmmdx.fit("Reaction ~ 1 + (Days || Subject) + (1 | Days)", load("sleepstudy.csv")))


def test_different_rows_is_an_error(sleep):
    fewer = lmmdx.fit("Reaction ~ Days + (1 | Subject)", load("sleepstudy.csv").iloc[:-10])
    with pytest.raises(lmmdx.LmmdxError, match="different rows"):
        compare(sleep["slope"], fewer)


def test_bootstrap_p_value_is_seeded():
    fit = reference_fit("dyestuff_reml")
    a = compare(fit, "Yield ~ 1", bootstrap=40, seed=7)
    b = compare(fit, "Yield ~ 1", bootstrap=40, seed=7)
    assert a.p_value_bootstrap == b.p_value_bootstrap
    assert compare(fit, "Yield ~ 1", bootstrap=40, seed=7, workers=2).p_value_bootstrap == a.p_value_bootstrap
    assert 1 / 41 <= a.p_value_bootstrap <= 1
    assert a.nsim == 40
    assert "bootstrap (40 samples)" in str(a)
