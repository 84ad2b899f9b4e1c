"""Kenward–Roger df and adjusted SEs against pbkrtest 0.5.2 (via lmerTest)."""

from __future__ import annotations

import numpy as np
import pytest
from support import INFERENCE_REFERENCE, reference_fit

import lmmdx
from lmmdx.inference import kenward_roger as kr_module

CASES = sorted(k for k, case in INFERENCE_REFERENCE.items() if case["kenward_roger"])


@pytest.mark.parametrize("key", CASES)
def test_df_and_standard_errors_match_pbkrtest(key):
    tests = reference_fit(key).coef_tests("kenward-roger")
    for test, row in zip(tests, INFERENCE_REFERENCE[key]["kenward_roger"], strict=True):
        assert test.term == row["name"]
        assert test.df == pytest.approx(row["df"], rel=1e-2)
        assert test.std_error == pytest.approx(row["Std. Error"], rel=1e-3)


def test_adjustment_inflates_the_covariance_of_a_singular_fit():
    fit = reference_fit("seed_example_slope_reml")
    adjusted = kr_module.kenward_roger(fit).vcov_adjusted
    assert np.all(np.diag(adjusted) > np.diag(fit.vcov_beta))


def test_ml_fit_is_refused():
    with pytest.raises(lmmdx.LmmdxError, match="REML"):
        reference_fit("seed_example_intercept_ml").coef_tests("kenward-roger")


def test_size_limit_is_one_line(monkeypatch):
    monkeypatch.setattr(kr_module, "KR_MAX_NOBS", 100)
    with pytest.raises(lmmdx.LmmdxError, match="limited to 100 observations") as info:
        reference_fit("sleepstudy_slope_reml").coef_tests("kr")
    assert "\n" not in str(info.value)


def test_unknown_method():
    with pytest.raises(lmmdx.LmmdxError, match="unknown ddf method"):
        reference_fit("dyestuff_reml").coef_tests("containment")
