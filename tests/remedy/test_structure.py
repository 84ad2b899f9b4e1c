"""Random-effects structures: parsing, reductions, formula text, identity of models."""

from __future__ import annotations

import pytest

from lmmdx.remedy.structure import CovBlock, Structure, parameter_name, same_model, structure_of


def test_structure_of_a_correlated_term():
    s = structure_of("y ~ x + (x | group)")
    assert s.response == "y" and s.fixed == "1 + x"
    assert s.blocks == (CovBlock(("group",), ("1", "x")),)
    assert s.n_cov_params == 4  # two variances, a covariance, the residual
    assert s.formula == "y ~ x + (1 + x | group)"


def test_zero_correlation_is_written_with_double_bars_and_reparses_to_itself():
    s = structure_of("y ~ x + z + (x + z | g) + (1 | h)")
    zcp = s.zero_correlation()
    assert zcp.formula == "y ~ x + z + (1 + x + z || g) + (1 | h)"
    assert structure_of(zcp.formula).key == zcp.key
    assert zcp.n_cov_params == 5


def test_without_drops_an_effect_and_its_covariances():
    s = structure_of("y ~ x + (x | g)")
    assert s.without("g", "x").formula == "y ~ x + (1 | g)"
    assert s.without("g", "x").n_cov_params == 2
    assert s.intercepts_only().formula == "y ~ x + (1 | g)"


def test_removable_respects_marginality_and_keeps_one_random_effect():
    s = structure_of("y ~ x + (x | g) + (1 | h)")
    assert s.removable() == (("g", "x"), ("h", "1"))
    assert structure_of("y ~ x + (1 | g)").removable() == ()
    assert structure_of("y ~ x + (0 + x | g) + (1 | g)").removable() == (("g", "x"),)


def test_same_model_ignores_spelling_and_order():
    assert same_model("y ~ x + (x | g)", "y ~ 1 + x + (1 + x | g)")
    assert same_model("y ~ x + (x || g)", "y ~ x + (0 + x | g) + (1 | g)")
    assert not same_model("y ~ x + (x || g)", "y ~ x + (x | g)")
    assert not same_model("y ~ x + (1 | g)", "y ~ z + (1 | g)")


def test_interactions_and_nesting_expand_into_effects():
    s = structure_of("y ~ x + (x * z | a/b)")
    assert [b.group_name for b in s.blocks] == ["a", "a:b"]
    assert s.blocks[0].effects == ("1", "x", "z", "x:z")
    assert s.dimensions()[:2] == (("a", "1"), ("a", "x"))


def test_no_intercept_terms_and_parameter_names():
    s = Structure("y", "0 + x", (CovBlock(("g",), ("x",)), CovBlock(("g",), ("z",))))
    assert s.formula == "y ~ 0 + x + (0 + x + z || g)"
    assert parameter_name("g", "1") == "g: (Intercept)"
    assert parameter_name("g", "x") == "g: x"
    with pytest.raises(KeyError):
        s.block_of("g", "w")
