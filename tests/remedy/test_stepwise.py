"""Maximal feasible structure and backward elimination with boundary-corrected LRTs."""

from __future__ import annotations

import warnings

import pytest
import scipy.stats
from support import REFERENCE, load

import lmmdx
from lmmdx.remedy.refit import FitCache
from lmmdx.remedy.stepwise import backward_elimination, maximal_feasible
from lmmdx.remedy.structure import structure_of


def _cache(data: str, formula: str) -> tuple[FitCache, lmmdx.Fit]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit(formula, load(data))
    cache = FitCache(fit)
    cache.seed(structure_of(fit.formula), fit)
    return cache, fit


def test_seed_maximal_feasible_keeps_the_slope_without_its_correlation():
    cache, fit = _cache("seed_example.csv", "y ~ x + (x | group)")
    chosen = maximal_feasible(structure_of(fit.formula), cache)
    assert chosen.structure is not None
    assert chosen.structure.formula == "y ~ x + (1 + x || group)"
    assert [(t.parameter, t.action) for t in chosen.tests] == [
        ("group: (Intercept)", "kept"),
        ("group: x", "kept without correlations"),
    ]
    assert "singular" in chosen.tests[1].note


def test_seed_backward_elimination_keeps_the_slope_at_alpha_0_2():
    cache, _fit = _cache("seed_example.csv", "y ~ x + (x | group)")
    start = structure_of("y ~ x + (x || group)")
    chosen = backward_elimination(start, cache)
    assert chosen.structure == start
    (test,) = chosen.tests
    assert test.parameter == "group: x" and test.action == "kept" and test.df == (0, 1)
    # REML criteria of (x || group) and (1 | group), the latter refitted here
    zcp = REFERENCE["seed_example_zerocorr_reml"]["objective"]
    intercept = cache.fit(structure_of("y ~ x + (1 | group)")).fit
    assert test.statistic == pytest.approx(intercept.objective - zcp, abs=1e-5)
    assert test.p_value == pytest.approx(0.5 * scipy.stats.chi2.sf(test.statistic, 1), rel=1e-9)
    assert 0.05 < test.p_value < 0.2


def test_seed_elimination_by_aic_drops_the_slope():
    cache, _ = _cache("seed_example.csv", "y ~ x + (x | group)")
    chosen = backward_elimination(structure_of("y ~ x + (x || group)"), cache, criterion="aic")
    assert chosen.structure is not None and chosen.structure.formula == "y ~ x + (1 | group)"
    assert chosen.tests[0].action == "dropped" and chosen.tests[0].aic_change < 0


def test_sleepstudy_selection_keeps_the_full_model():
    cache, fit = _cache("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)")
    full = structure_of(fit.formula)
    feasible = maximal_feasible(full, cache)
    assert feasible.structure == full
    chosen = backward_elimination(full, cache)
    assert chosen.structure == full
    (test,) = chosen.tests
    assert test.df == (1, 2) and test.p_value < 1e-8  # slope with its covariance: 50:50 χ²₁/χ²₂


def test_no_feasible_structure_when_the_only_variance_is_zero():
    cache, fit = _cache("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)")
    chosen = maximal_feasible(structure_of(fit.formula), cache)
    assert chosen.structure is None
    assert chosen.tests[0].action == "dropped"
