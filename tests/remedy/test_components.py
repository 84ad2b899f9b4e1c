"""Principal components of the random effects: how many dimensions the data support."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import REFERENCE, load

import lmmdx
from lmmdx.remedy.components import pca_reduction, principal_components
from lmmdx.remedy.structure import structure_of


def _fit(data: str, formula: str) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit(formula, load(data))


def test_seed_example_supports_one_of_two_dimensions_and_drops_the_slope():
    fit = _fit("seed_example.csv", "y ~ x + (x | group)")
    (comp,) = principal_components(fit)
    assert comp.group == "group" and comp.effects == ("1", "x")
    assert comp.n_supported == 1
    assert comp.proportions[1] < 1e-10
    assert comp.unsupported_effects() == ("x",)
    reduced, notes = pca_reduction(structure_of(fit.formula), (comp,))
    assert reduced.formula == "y ~ x + (1 | group)"
    assert "1 of 2 dimensions supported" in notes[0]


def test_sleepstudy_supports_both_dimensions():
    fit = _fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)")
    (comp,) = principal_components(fit)
    assert comp.n_supported == 2 and comp.unsupported_effects() == ()
    assert np.all(np.diff(comp.sdev) <= 0)


def test_zero_correlation_terms_of_one_factor_are_analysed_together():
    fit = _fit("seed_example.csv", "y ~ x + (x || group)")
    (comp,) = principal_components(fit)
    assert comp.columns == ("(Intercept)", "x") and comp.n_supported == 2
    # on the raw scale these are lme4's rePCA SDs; here on standardised columns, same count
    assert len(REFERENCE["seed_example_zerocorr_reml"]["repca_sd"]["group"]) == comp.sdev.size


def test_a_zero_variance_leaves_no_supported_dimension():
    fit = _fit("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)")
    (comp,) = principal_components(fit)
    assert comp.n_supported == 0 and comp.unsupported_effects() == ("1",)
    reduced, _ = pca_reduction(structure_of(fit.formula), (comp,))
    assert reduced.blocks == ()
    assert comp.proportions == pytest.approx([0.0])
