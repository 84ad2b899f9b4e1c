"""Satterthwaite df against lmerTest 3.1-3 (tests/data/lme4_inference_reference.json)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from support import INFERENCE_REFERENCE, REFERENCE, load, reference_fit

import lmmdx
from lmmdx.inference.satterthwaite import satterthwaite_df, satterthwaite_df_1d, varpar_information
from lmmdx.inference.varpar import VarparCriterion

CASES = sorted(INFERENCE_REFERENCE)


@pytest.mark.parametrize("key", CASES)
def test_coefficient_df_match_lmertest(key):
    fit = reference_fit(key)
    tests = fit.coef_tests()
    reference = INFERENCE_REFERENCE[key]["satterthwaite"]
    assert [t.term for t in tests] == [row["name"] for row in reference]
    for test, row in zip(tests, reference, strict=True):
        assert test.df == pytest.approx(row["df"], rel=1e-3)
        assert test.std_error == pytest.approx(row["Std. Error"], rel=1e-3)
        assert test.t_value == pytest.approx(row["t value"], rel=1e-3)
        # p from t and df: a 1e-3 change of df or t moves tiny p-values by more than 1e-3
        assert test.p_value == pytest.approx(row["Pr(>|t|)"], rel=2e-2)
        assert test.p_value == pytest.approx(2 * stats.t.sf(abs(test.t_value), test.df), rel=1e-12)


@pytest.mark.parametrize("key", [k for k in sorted(REFERENCE) if REFERENCE[k].get("satterthwaite_df")
                                 and not k.startswith("insteval")])
def test_df_match_the_fit_reference(key):
    """The fit reference (best lme4 optimum) has Satterthwaite df too."""
    case = REFERENCE[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        fit = lmmdx.fit(case["formula"], load(case["data"]), reml=case["reml"])
    expected = case["satterthwaite_df"]
    if isinstance(expected, list):  # R's JSON drops the names of length-1 vectors
        expected = dict(zip(case["beta"], expected, strict=True))
    for test in fit.coef_tests():
        assert test.df == pytest.approx(expected[test.term], rel=1e-3)


def test_criterion_over_varpar_is_the_objective_at_the_optimum():
    fit = reference_fit("sleepstudy_slope_reml")
    crit = VarparCriterion(fit.model, fit.reml)
    assert crit(np.append(fit.theta, fit.sigma)) == pytest.approx(fit.objective, abs=1e-8)
    assert crit.vcov_beta(np.append(fit.theta, fit.sigma)) == pytest.approx(fit.vcov_beta, rel=1e-10)
    # σ̂ minimises the non-profiled criterion
    for factor in (0.98, 1.02):
        assert crit(np.append(fit.theta, factor * fit.sigma)) > fit.objective


def test_singular_fit_uses_the_generalised_inverse():
    info = varpar_information(reference_fit("seed_example_slope_reml"))
    assert info.eigenvalues.shape == (4,)
    assert np.allclose(info.vcov_varpar, info.vcov_varpar.T)


def test_multi_row_contrast_combines_the_rows():
    fit = reference_fit("cake_interaction_reml")
    info = varpar_information(fit)
    l2 = np.zeros((2, 6))
    l2[0, 1] = l2[1, 2] = 1.0  # recipeB = recipeC = 0
    f_value, den, num = satterthwaite_df(info, l2, fit.beta)
    assert num == 2
    v = l2 @ fit.vcov_beta @ l2.T
    assert f_value == pytest.approx(float(fit.beta[1:3] @ np.linalg.solve(v, fit.beta[1:3])) / 2, rel=1e-10)
    singles = [satterthwaite_df_1d(info, row) for row in l2]
    assert min(singles) - 1 <= den <= max(singles) + 1
    # a single row gives back the 1-d df and F = t²
    f1, den1, num1 = satterthwaite_df(info, l2[:1], fit.beta)
    assert num1 == 1 and den1 == pytest.approx(singles[0], rel=1e-12)
    assert f1 == pytest.approx(fit.t_values[1] ** 2, rel=1e-10)


def test_contrast_test_with_rhs():
    fit = reference_fit("sleepstudy_slope_reml")
    test = fit.contrast_test([0.0, 1.0], rhs=10.0)
    t = (fit.beta[1] - 10.0) / fit.std_errors[1]
    assert test.f_value == pytest.approx(t**2, rel=1e-10)
    assert test.num_df == 1
    assert test.p_value == pytest.approx(2 * stats.t.sf(abs(t), test.den_df), rel=1e-10)
