"""Maximal feasible structure and backward elimination with boundary-corrected LRTs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from support import REFERENCE, load

import lmmdx
from lmmdx.remedy.refit import FitCache
from lmmdx.remedy.stepwise import (
    backward_elimination,
    effect_variables,
    interest_variables,
    maximal_feasible,
    of_interest,
)
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


def test_dyestuff2_intercept_is_dropped_because_its_variance_is_zero():
    cache, fit = _cache("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)")
    (test,) = maximal_feasible(structure_of(fit.formula), cache).tests
    assert test.at_zero and "variance is estimated at zero" in test.note
    assert not test.unsafe_drop


@pytest.mark.parametrize(
    ("effect", "variables"),
    [
        ("1", set()),
        ("x", {"x"}),
        ("x:z", {"x", "z"}),
        ("poly(x, 2)", {"poly(x, 2)"}),
        ("I(a:b):z", {"I(a:b)", "z"}),
    ],
)
def test_effect_variables_split_at_top_level_colons(effect, variables):
    assert effect_variables(effect) == variables


def test_slopes_of_interest_follow_the_terms_of_the_effects():
    full = structure_of("y ~ x * z + (1 + x + z + x:z | g) + (1 + x | h)")
    assert of_interest(full, [frozenset({"x"})]) == {("g", "x"), ("h", "x")}
    # an interaction's test needs the slopes of its variables and of the interaction (Barr 2013)
    assert of_interest(full, [frozenset({"x", "z"})]) == {("g", "x"), ("g", "z"), ("g", "x:z"), ("h", "x")}
    assert of_interest(full, [frozenset()]) == {("g", "1"), ("h", "1")}
    assert of_interest(full, []) == frozenset()


def test_interest_variables_map_factor_levels_to_their_term():
    data = load("Penicillin.csv").assign(x=lambda d: range(len(d)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("diameter ~ sample + x + (1 | plate)", data)
    level = next(n for n in fit.fixed_names if n.startswith("sample"))
    assert interest_variables(fit.model.design, [level]) == (frozenset({"sample"}),)
    assert interest_variables(fit.model.design, ["x", "(Intercept)"]) == (frozenset({"x"}), frozenset())


# tests/data/two_slopes.csv: 8 groups x 12, two covariates whose random slopes both have a
# small positive variance (numpy default_rng(14): g = repeat(arange(8), 12); x, z ~ N(0, 1)
# rounded to 0.01; y = 1 + 1.4 u0[g] + 0.25 u1[g] x + 0.25 u2[g] z + e, u, e ~ N(0, 1), to 0.001).
# Neither slope is at zero, and neither LRT reaches p < 0.2.
TWO_SLOPES = "y ~ x + z + (x + z || g)"


def test_backward_elimination_drops_nuisance_slopes_at_alpha_0_2():
    cache, fit = _cache("two_slopes.csv", TWO_SLOPES)
    assert not fit.singular
    chosen = backward_elimination(structure_of(fit.formula), cache)
    assert chosen.structure is not None and chosen.structure.formula == "y ~ x + z + (1 | g)"
    assert [t.action for t in chosen.tests] == ["dropped", "dropped"]
    assert all(t.p_value > 0.2 and not t.of_interest for t in chosen.tests)


def test_backward_elimination_keeps_the_slope_of_the_effect_of_interest():
    cache, fit = _cache("two_slopes.csv", TWO_SLOPES)
    full = structure_of(fit.formula)
    keep = of_interest(full, interest_variables(fit.model.design, ["x"]))
    assert keep == {("g", "x")}
    chosen = backward_elimination(full, cache, keep=keep)
    assert chosen.structure is not None and chosen.structure.formula == "y ~ x + z + (1 + x || g)"
    dropped, kept = chosen.tests
    assert (dropped.parameter, dropped.action, dropped.of_interest) == ("g: z", "dropped", False)
    assert (kept.parameter, kept.action, kept.of_interest) == ("g: x", "kept", True)
    assert kept.p_value > 0.2  # the test would have dropped it
    assert "effect of interest" in kept.describe()
    # by AIC as well
    by_aic = backward_elimination(full, cache, criterion="aic", keep=keep)
    assert by_aic.structure is not None and ("g", "x") in by_aic.structure.dimensions()
    # every slope of interest: nothing is dropped
    both = of_interest(full, interest_variables(fit.model.design, ["x", "z"]))
    assert backward_elimination(full, cache, keep=both).structure == full


def _equal_slopes() -> pd.DataFrame:
    """The seed design with a response whose least-squares slope on x is 0.2 in every group.

    The noise is a fixed sequence with its within-group projection on (1, x) removed, so the
    between-group variance of the slopes is exactly zero: its REML estimate is on the boundary.
    """
    data = load("seed_example.csv")
    noise = np.sin(np.arange(len(data)) * 1.7)
    for g in data.group.unique():
        rows = (data.group == g).to_numpy()
        basis = np.column_stack([np.ones(rows.sum()), data.x[rows]])
        noise[rows] -= basis @ np.linalg.lstsq(basis, noise[rows], rcond=None)[0]
    return data.assign(y=0.5 * data.group + 0.2 * data.x + noise)


def test_a_slope_of_interest_whose_variance_is_zero_leaves_the_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + (x | group)", _equal_slopes())
    cache = FitCache(fit)
    cache.seed(structure_of(fit.formula), fit)
    chosen = maximal_feasible(structure_of(fit.formula), cache, {("group", "x")})
    assert chosen.structure is not None and chosen.structure.formula == "y ~ x + (1 | group)"
    slope = chosen.tests[-1]
    assert (slope.parameter, slope.action, slope.of_interest, slope.at_zero) == ("group: x", "dropped", True, True)
    assert not slope.unsafe_drop and "variance is estimated at zero" in slope.note
