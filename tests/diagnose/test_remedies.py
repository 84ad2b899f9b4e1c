"""Remedy formulas are valid lme4 formulas that state the intended model."""

from __future__ import annotations

import pandas as pd
import pytest
from diagnose_support import fitted

from lmmdx.design import build_design
from lmmdx.diagnose.remedies import FormulaEditor, split_terms
from lmmdx.formula import parse_formula


def _editor(formula: str, frame: pd.DataFrame) -> FormulaEditor:
    return FormulaEditor(build_design(parse_formula(formula), frame, check_identifiable=False))


@pytest.fixture
def frame():
    n = 24
    return pd.DataFrame({"y": range(n), "x": [i % 5 for i in range(n)], "z": [(i * 7) % 3 for i in range(n)],
                         "g": [i % 4 for i in range(n)], "h": ["a", "b", "c"] * 8, "x2": [2 * (i % 5) for i in range(n)]})


def test_split_terms_respects_brackets():
    assert split_terms("1 + x + I(a + b) + (x | g)") == ["1", "x", "I(a + b)", "(x | g)"]


def test_formulas_for_a_correlated_slope(frame):
    ed = _editor("y ~ x + (1 + x + z | g) + (1 | h)", frame)
    block = next(b for b in ed.design.blocks if b.group == "g")
    assert ed.uncorrelated(block, "r").formula == "y ~ x + (1 + x + z || g) + (1 | h)"
    assert ed.drop_slope(block, "z", "r").formula == "y ~ x + (1 + x | g) + (1 | h)"
    assert ed.intercept_only(block, "r").formula == "y ~ x + (1 | g) + (1 | h)"
    assert ed.drop_term(block, "r").formula == "y ~ x + (1 | h)"
    assert ed.fixed_factor(block, "r").formula == "y ~ x + C(g) + x:C(g) + z:C(g) + (1 | h)"
    assert ed.centre("x", 2.0, "r").formula == "y ~ I(x - 2) + (1 + I(x - 2) + z | g) + (1 | h)"
    assert ed.penalised("r").formula == "y ~ x + (1 + x + z | g) + (1 | h)"
    assert ed.more_levels("g", 30, "r").formula is None


def test_formulas_after_double_bar_and_without_intercept(frame):
    ed = _editor("y ~ 0 + x + (x || h)", frame)
    blocks = {b.columns: b for b in ed.design.blocks}
    assert ed.intercept_only(blocks[("x",)], "r").formula == "y ~ 0 + x + (1 | h)"
    assert ed.drop_term(blocks[("x",)], "r").formula == "y ~ 0 + x + (1 | h)"
    assert ed.uncorrelated(blocks[("(Intercept)",)], "r") is None  # a scalar term has no correlation
    assert ed.fixed_factor(blocks[("x",)], "r").formula == "y ~ 0 + x + h + x:h"


def test_aliased_fixed_column_is_dropped_from_the_formula(frame):
    ed = _editor("y ~ x + x2 + (1 | g)", frame)
    assert ed.design.fixed.dropped == ("x2",)
    assert ed.drop_fixed(("x2",), "r").formula == "y ~ x + (1 | g)"


@pytest.mark.parametrize("name", ["seed", "sleep", "pastes", "cake"])
def test_every_remedy_formula_parses(name):
    fit = fitted(name)
    ed = FormulaEditor(fit.model.design)
    for block in fit.model.design.blocks:
        for remedy in (ed.uncorrelated(block, "r"), ed.intercept_only(block, "r"), ed.drop_term(block, "r"),
                       ed.fixed_factor(block, "r")):
            if remedy is not None:
                parse_formula(remedy.formula)
