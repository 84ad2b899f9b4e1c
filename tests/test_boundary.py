"""lmmdx.boundary: the one definition of "on the boundary" and the one correlation helper."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import REFERENCE, load

import lmmdx
from lmmdx.boundary import (
    BOUNDARY_TOLERANCE,
    classify_term,
    correlation,
    correlations,
    held_mask,
    is_singular,
    singular_mask,
    standardised_covariance,
)


def test_tolerance_is_lme4s_is_singular_default():
    assert BOUNDARY_TOLERANCE == 1e-4


def test_singular_and_held_masks_look_only_at_diagonal_elements():
    diagonal = np.array([True, False, True])
    theta = np.array([5e-5, -3.0, 0.0])
    assert singular_mask(theta, diagonal).tolist() == [True, False, True]
    assert held_mask(theta, diagonal).tolist() == [False, False, True]
    assert is_singular(theta, diagonal)
    assert not is_singular(np.array([2e-4, 0.0, 1.0]), diagonal)


def test_rank_deficient_pair_is_exactly_one_whatever_the_rounding():
    for ulps in (-2, -1, 0, 1, 2):
        rho = 1.0 + ulps * np.finfo(float).eps
        cov = np.array([[4.0, 2.0 * 3.0 * rho], [2.0 * 3.0 * rho, 9.0]])
        sd, corr = correlations(cov)
        assert sd.tolist() == [2.0, 3.0]
        assert corr[0, 1] == 1.0 and corr[1, 0] == 1.0
    cov = np.array([[1.0, -1.0 - 1e-15], [-1.0 - 1e-15, 1.0]])
    assert correlation(cov, 0, 1) == -1.0


def test_correlation_inside_is_untouched_and_clipped_to_its_range():
    cov = np.array([[1.0, 0.3], [0.3, 1.0]])
    assert correlation(cov, 0, 1) == 0.3
    # 1 − 1e-6 is a genuine correlation (1 − |ρ| is above tol² = 1e-8)
    cov = np.array([[1.0, 1 - 1e-6], [1 - 1e-6, 1.0]])
    assert correlation(cov, 0, 1) == 1 - 1e-6


def test_zero_sd_gives_an_undefined_correlation():
    cov = np.array([[0.0, 0.0], [0.0, 2.0]])
    sd, corr = correlations(cov)
    assert sd[0] == 0.0
    assert np.isnan(corr[0, 1]) and np.isnan(corr[1, 0])
    assert corr[0, 0] == 1.0 and corr[1, 1] == 1.0


def test_classify_term_names_zero_effects_and_tied_correlations():
    t_int = np.array([[1.0, 0.0], [0.5, 0.0]])
    # both effects vary, perfectly correlated
    term = classify_term(0, t_int, standardised_covariance(np.array([[1.0, 0.0], [0.5, 0.0]]), np.ones(2)))
    assert term.singular and term.zero_effects == () and term.correlation_boundary
    assert term.correlation_at_edge(0, 1, 1.0) and not term.sd_at_edge(1)
    # the second effect has zero variance
    term = classify_term(0, t_int, standardised_covariance(np.array([[1.0, 0.0], [0.0, 0.0]]), np.ones(2)))
    assert term.zero_effects == (1,) and term.sd_at_edge(1)
    # a term off the boundary has nothing on it
    term = classify_term(0, np.eye(2), np.eye(2))
    assert not term.singular and term.zero_effects == () and not term.correlation_boundary


def test_zero_variance_is_judged_on_standardised_columns():
    """An SD of 1e-3 on a covariate of rms 1e3 is not zero; the same SD on a covariate of rms 1e-3 is."""
    t_user = np.array([[1.0, 0.0], [0.0, 1e-3]])
    t_int = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert classify_term(0, t_int, standardised_covariance(t_user, np.array([1.0, 1e3]))).zero_effects == ()
    assert classify_term(0, t_int, standardised_covariance(t_user, np.array([1.0, 1e-3]))).zero_effects == (1,)


@pytest.fixture(scope="module")
def seed_fit() -> lmmdx.Fit:
    case = REFERENCE["seed_example_slope_reml"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(case["formula"], load(case["data"]), reml=case["reml"])


def test_seed_example_correlation_is_exactly_one_in_the_fit_and_its_json(seed_fit):
    assert seed_fit.correlations[0].corr == 1.0
    assert seed_fit.to_dict(ddf=None)["correlations"][0]["corr"] == 1.0
    (term,) = seed_fit.boundary
    assert term.singular and term.correlation_boundary and term.zero_effects == ()
