"""Re-writings of a model: which apply, and what each changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from support import load

from lmmdx.design import build_design
from lmmdx.formula import parse_formula
from lmmdx.invariance.variants import variants


def design_of(formula: str, frame: pd.DataFrame):
    return build_design(parse_formula(formula), frame)


def test_sleepstudy_variants():
    frame = load("sleepstudy.csv")
    found = {v.name: v for v in variants(design_of("Reaction ~ Days + (Days | Subject)", frame), seed=1)}
    assert list(found) == ["rows", "scale_x1000", "scale_x0.001", "sign", "levels"]
    rows = found["rows"].frame
    assert sorted(rows.index) == list(range(len(frame))) and list(rows.index) != list(range(len(frame)))
    np.testing.assert_array_equal(rows["Reaction"].to_numpy(), frame["Reaction"].to_numpy()[rows.index])
    scaled = found["scale_x1000"].frame
    np.testing.assert_array_equal(scaled["Days"], frame["Days"] * 1000)
    np.testing.assert_array_equal(scaled["Reaction"], frame["Reaction"])
    np.testing.assert_array_equal(found["sign"].frame["Days"], -frame["Days"])
    labels = found["levels"].frame["Subject"]
    assert labels.nunique() == 18 and labels.str.startswith("L").all()
    # the relabelling is one-to-one and changes the sorted order of the levels
    pairs = set(zip(frame["Subject"].astype(str), labels, strict=True))
    assert len(pairs) == 18
    assert [p[1] for p in sorted(pairs)] != sorted(p[1] for p in pairs)


def test_cake_variants_reorder_terms_and_change_the_reference():
    frame = load("cake.csv")
    design = design_of("angle ~ recipe + temp + (1 | replicate) + (1 | recipe:replicate)", frame)
    found = {v.name: v for v in variants(design)}
    assert {"random_terms", "reference"} <= set(found)
    assert [t.text for t in found["random_terms"].formula.random] == ["(1 | recipe:replicate)", "(1 | replicate)"]
    assert list(found["reference"].frame["recipe"].cat.categories) == ["B", "C", "A"]
    # grouping columns used only for grouping are relabelled; recipe is a predictor, so it is not
    assert "replicate" in found["levels"].description and "recipe," not in found["levels"].description


def test_columns_inside_a_term_are_reversed_after_the_intercept():
    frame = load("sleepstudy.csv").assign(phase=lambda f: np.where(f["Days"] >= 5, 0.5, -0.5))
    design = design_of("Reaction ~ Days + (Days + phase | Subject)", frame)
    inside = next(v for v in variants(design) if v.name == "inside_terms")
    assert inside.formula.random[0].lhs.text == "1 + phase + Days"
    assert inside.formula.random[0].text == "(1 + phase + Days | Subject)"


def test_boolean_reference_level_is_rotated():
    frame = load("seed_example.csv").assign(flag=lambda f: f["x"] > 0)
    design = design_of("y ~ flag + (1 | group)", frame)
    reference = next(v for v in variants(design) if v.name == "reference")
    assert list(reference.frame["flag"].cat.categories) == ["TRUE", "FALSE"]
