"""Type III and type I ANOVA tables against lmerTest's anova()."""

from __future__ import annotations

import numpy as np
import pytest
from support import INFERENCE_REFERENCE, reference_fit

import lmmdx
from lmmdx.design.terms import fixed_terms
from lmmdx.inference.anova import type1_contrasts, type3_contrasts


@pytest.mark.parametrize("key", sorted(INFERENCE_REFERENCE))
def test_type3_matches_lmertest(key):
    fit = reference_fit(key)
    table = fit.anova()
    reference = INFERENCE_REFERENCE[key]["anova_type3_satterthwaite"]
    assert [r.term for r in table.rows] == [row["name"] for row in reference]
    for ours, row in zip(table.rows, reference, strict=True):
        assert ours.num_df == row["NumDF"]
        assert ours.f_value == pytest.approx(row["F value"], rel=1e-3)
        assert ours.den_df == pytest.approx(row["DenDF"], rel=1e-3)
        assert ours.sum_sq == pytest.approx(row["Sum Sq"], rel=1e-3)
        assert ours.p_value == pytest.approx(row["Pr(>F)"], rel=2e-2)


def test_cake_type3_contrasts_are_lmertests():
    """lmerTest orthogonalises temperature against recipe:temperature only (recipe is a factor)."""
    design = reference_fit("cake_interaction_reml").model.design
    contrasts = type3_contrasts(design.X, design.fixed.names, fixed_terms(design))
    np.testing.assert_allclose(contrasts["recipe"], [[0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]])
    np.testing.assert_allclose(contrasts["temperature"], [[0, 0, 0, 1, 1 / 3, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(contrasts["recipe:temperature"], [[0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1]])


def test_type1_is_sequential():
    fit = reference_fit("cake_interaction_reml")
    one, three = fit.anova(type=1), fit.anova(type=3)
    by_term = {r.term: r for r in three.rows}
    # the last term is tested the same way in both; the first is not (it ignores the interaction)
    assert one.rows[-1].f_value == pytest.approx(by_term["recipe:temperature"].f_value, rel=1e-8)
    assert one.rows[0].f_value != pytest.approx(by_term["recipe"].f_value, rel=1e-2)
    design = fit.model.design
    l1 = type1_contrasts(design.X, fixed_terms(design))
    upper = np.vstack([l1["recipe"], l1["temperature"], l1["recipe:temperature"]])
    assert np.allclose(np.tril(upper[:, 1:], -1), 0.0)  # unit upper-triangular rows (Doolittle)


def test_kenward_roger_table_and_frame():
    table = reference_fit("cake_interaction_reml").anova(ddf="kenward-roger")
    frame = table.to_frame()
    assert list(frame.columns) == ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]
    assert frame.loc["temperature", "DenDF"] == pytest.approx(222.0, rel=1e-3)
    assert "Kenward-Roger" in str(table)


def test_intercept_only_model_has_an_empty_table():
    table = reference_fit("dyestuff_reml").anova()
    assert table.rows == ()
    assert "no fixed-effect terms" in str(table)


def test_bad_type():
    with pytest.raises(lmmdx.LmmdxError, match="type must be 1 or 3"):
        reference_fit("dyestuff_reml").anova(type=2)
