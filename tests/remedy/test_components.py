"""The PCA-reduced model: the diagnosis's principal components, mapped back to formula effects."""

from __future__ import annotations

import warnings

import numpy as np
from support import load

import lmmdx
from lmmdx.diagnose.dimensions import TermPCA, term_pca
from lmmdx.remedy.components import column_effects, pca_reduction, unsupported_effects
from lmmdx.remedy.structure import structure_of


def _fit(data, formula: str) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit(formula, data if not isinstance(data, str) else load(data))


def test_seed_example_supports_one_of_two_dimensions_and_drops_the_slope():
    fit = _fit("seed_example.csv", "y ~ x + (x | group)")
    pca = term_pca(fit, 0)
    assert pca.supported == 1 and column_effects(fit, 0) == ("1", "x")
    reduced, notes = pca_reduction(structure_of(fit.formula), fit)
    assert reduced.formula == "y ~ x + (1 | group)"
    assert notes[0].startswith("(1 + x | group): 1 of 2 dimensions supported")
    assert notes[0].endswith("dropped x")


def test_sleepstudy_supports_both_dimensions():
    fit = _fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)")
    reduced, notes = pca_reduction(structure_of(fit.formula), fit)
    assert reduced == structure_of(fit.formula) and "2 of 2 dimensions supported" in notes[0]


def test_a_zero_variance_leaves_no_random_effect():
    fit = _fit("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)")
    reduced, _ = pca_reduction(structure_of(fit.formula), fit)
    assert reduced.blocks == ()


def test_effects_load_on_the_collapsed_component_and_the_intercept_goes_last():
    loadings = np.array([[0.9, 0.1, 0.4], [0.3, 0.2, -0.9], [0.3, 0.97, 0.1]])
    pca = TermPCA(0, np.ones(3), np.array([0.7, 0.3, 0.0]), loadings, 2)
    assert unsupported_effects(pca, ("1", "x", "z")) == ("x",)
    # a tie between intercept and slope (a correlation of ±1) drops the slope
    tie = TermPCA(0, np.ones(2), np.array([1.0, 0.0]), np.array([[0.7, 0.7], [0.7, -0.7]]), 1)
    assert unsupported_effects(tie, ("1", "x")) == ("x",)
    assert unsupported_effects(TermPCA(0, np.ones(1), np.zeros(1), np.eye(1), 0), ("1",)) == ("1",)


def test_a_factor_slope_maps_several_columns_to_one_effect():
    data = load("sleepstudy.csv")
    data["phase"] = np.where(data["Days"] < 3, "early", np.where(data["Days"] < 7, "mid", "late"))
    fit = _fit(data, "Reaction ~ phase + (phase | Subject)")
    assert column_effects(fit, 0) == ("1", "phase", "phase")
