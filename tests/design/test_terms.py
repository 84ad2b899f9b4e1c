"""The term structure of the fixed part (R's terms object)."""

from __future__ import annotations

import numpy as np
from support import load

from lmmdx.design import build_design
from lmmdx.design.terms import fixed_terms
from lmmdx.formula import parse_formula


def test_cake_terms_and_complete_coding():
    design = build_design(parse_formula("angle ~ recipe * temperature + (1 | recipe:replicate)"), load("cake.csv"))
    terms = fixed_terms(design)
    assert [t.label for t in terms.terms] == ["recipe", "temperature", "recipe:temperature"]
    by_label = {t.label: t for t in terms.terms}
    assert by_label["recipe"].columns == (1, 2) and by_label["recipe:temperature"].columns == (4, 5)
    assert by_label["recipe:temperature"].factors == frozenset({"recipe"})
    assert [t.label for t in terms.containing(by_label["temperature"])] == ["recipe:temperature"]
    assert terms.containing(by_label["recipe"]) == ()  # the extra variable is numeric
    assert terms.complete_names == ("(Intercept)", "recipeA", "recipeB", "recipeC", "temperature",
                                    "recipeA:temperature", "recipeB:temperature", "recipeC:temperature")
    np.testing.assert_allclose(terms.complete[:, 1:4].sum(axis=1), 1.0)


def test_fixed_only_design_has_no_blocks():
    design = build_design(parse_formula("Yield ~ 1"), load("Dyestuff.csv"), fixed_only=True)
    assert design.blocks == () and design.X.shape == (30, 1)
