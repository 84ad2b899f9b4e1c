"""The shared design gives exactly the blocks and fits of Model.with_response."""

from __future__ import annotations

import numpy as np
import pytest
from support import load

from lmmdx.batch.shared import SharedDesign
from lmmdx.design import build_design
from lmmdx.fitting import fit_model
from lmmdx.formula import parse_formula
from lmmdx.model import Model

CASES = [
    ("Reaction ~ Days + (Days | Subject)", "sleepstudy.csv"),
    ("Reaction ~ Days + (Days || Subject)", "sleepstudy.csv"),
    ("diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin.csv"),
    ("strength ~ 1 + (1 | batch/cask)", "Pastes.csv"),
    ("angle ~ recipe * temperature + (1 | recipe:replicate) + (temp | replicate)", "cake.csv"),
]


@pytest.mark.parametrize(("formula", "data"), CASES)
def test_blocks_and_fits_equal_with_response(formula, data):
    design = build_design(parse_formula(formula), load(data))
    model = Model.from_design(design)
    shared = SharedDesign.from_model(model)
    y = 3.0 * design.y + np.random.default_rng(1).normal(size=design.nobs)
    expected, got = model.with_response(y), shared.model_for(y)
    assert got.scaling.y_scale == expected.scaling.y_scale
    np.testing.assert_allclose(got.blocks.a22, expected.blocks.a22, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.blocks.a21.toarray(), expected.blocks.a21.toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got.blocks.a11, expected.blocks.a11)
    a, b = fit_model(expected), fit_model(got)
    assert b.objective == pytest.approx(a.objective, rel=1e-10)
    np.testing.assert_allclose(b.beta, a.beta, rtol=1e-8)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-5, atol=1e-9)  # the optimiser's precision


def test_wrong_length_is_refused():
    design = build_design(parse_formula("Reaction ~ Days + (1 | Subject)"), load("sleepstudy.csv"))
    shared = SharedDesign.from_model(Model.from_design(design))
    with pytest.raises(ValueError, match="180 values"):
        shared.model_for(np.ones(10))
