"""Each formula form gives lme4's (R's ``model.matrix``) columns, names and numbers on a small frame.

The numbers are R's, hard-coded. Where they come from:

* ``poly(1:10, 2)``: R's printed output (``?poly``'s example data), also exact: column 1 is
  ``(x - 5.5) / sqrt(82.5)``, column 2 is ``((x - 5.5)^2 - 8.25) / sqrt(528)``.
* ``poly(x, 3)`` for ``x = 1, 2, 4, 7, 11, 16``: R's algorithm (``stats::poly``: the QR
  decomposition of the centred Vandermonde matrix, ``Z = qr.qy(QR, diag(diag(R)))`` scaled to
  unit columns), computed independently by exact rational Gram–Schmidt of the centred powers
  (Python's ``fractions``), then one square root per column; R documents the columns as
  orthonormal and orthogonal to the constant, which the test checks too.
* ``contr.poly(3)``: R's printed output (``.L = -0.7071068, 0, 0.7071068``,
  ``.Q = 0.4082483, -0.8164966, 0.4082483``); ``contr.sum``, ``contr.helmert`` likewise.
* ``scale(x)``: ``(x - mean(x)) / sd(x)`` with the n − 1 SD (R's ``scale.default``); with
  ``center = FALSE`` R divides by ``sqrt(sum(x^2) / (n - 1))``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import lmmdx
from lmmdx.design.design import model_data
from lmmdx.design.matrix import contrast_matrix, model_matrix
from lmmdx.errors import DataError, FormulaError
from lmmdx.formula import parse_formula

X6 = [1.0, 2.0, 4.0, 7.0, 11.0, 16.0]


def frame6() -> pd.DataFrame:
    return pd.DataFrame({
        "y": [3.1, 2.4, 5.0, 4.2, 6.8, 7.7],
        "x": X6,
        "f": ["b", "a", "c", "a", "b", "c"],
        "h": ["p", "p", "q", "q", "p", "q"],
        "d": [0, 1, 1, 2, 0, 2],
        "o": [0.5, -0.25, 1.0, 0.0, 2.0, -1.0],
        "g": ["g1", "g1", "g2", "g2", "g3", "g3"],
    })


def fixed_matrix(rhs: str, frame: pd.DataFrame) -> tuple[tuple[str, ...], np.ndarray]:
    """The fixed part's model matrix, before aliased columns are dropped."""
    formula = parse_formula(f"y ~ {rhs}")
    data = model_data(formula, frame)
    matrix = model_matrix(formula.fixed, data.variables, len(data.data), "fixed part")
    return matrix.names, matrix.values


def test_orthogonal_poly_matches_r_on_1_to_10():
    frame = pd.DataFrame({"y": np.arange(10.0), "x": np.arange(1, 11)})
    names, values = fixed_matrix("poly(x, 2)", frame)
    assert names == ("(Intercept)", "poly(x, 2)1", "poly(x, 2)2")
    r_poly = np.array([
        [-0.49543369, 0.52223297], [-0.38533732, 0.17407766], [-0.27524094, -0.08703883],
        [-0.16514456, -0.26111648], [-0.05504819, -0.34815531], [0.05504819, -0.34815531],
        [0.16514456, -0.26111648], [0.27524094, -0.08703883], [0.38533732, 0.17407766],
        [0.49543369, 0.52223297],
    ])
    np.testing.assert_allclose(values[:, 1:], r_poly, atol=5e-9)


def test_orthogonal_poly_matches_r_on_irregular_points():
    names, values = fixed_matrix("poly(x, 3)", frame6())
    assert names == ("(Intercept)", "poly(x, 3)1", "poly(x, 3)2", "poly(x, 3)3")
    r_poly = np.array([
        [-0.45162230, -0.37420134, -0.21935940, 0.01290349, 0.32258736, 0.70969219],
        [0.44249768, 0.18964186, -0.20544535, -0.52151512, -0.42669419, 0.52151512],
        [-0.42220033, 0.08444007, 0.52775041, 0.23221018, -0.65441051, 0.23221018],
    ]).T
    np.testing.assert_allclose(values[:, 1:], r_poly, atol=5e-9)
    z = values[:, 1:]
    np.testing.assert_allclose(z.T @ z, np.eye(3), atol=1e-12)  # orthonormal ...
    np.testing.assert_allclose(z.sum(axis=0), 0.0, atol=1e-12)  # ... and orthogonal to the constant


def test_raw_poly_is_powers():
    names, values = fixed_matrix("poly(x, 2, raw = TRUE)", frame6())
    assert names == ("(Intercept)", "poly(x, 2, raw = TRUE)1", "poly(x, 2, raw = TRUE)2")
    np.testing.assert_array_equal(values[:, 1:], np.column_stack([X6, np.square(X6)]))


def test_poly_degree_must_be_below_the_distinct_values():
    frame = frame6().assign(x=[1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
    with pytest.raises(DataError, match="less than the number of distinct values of x"):
        fixed_matrix("poly(x, 3)", frame)


def test_scale_centres_and_divides_by_the_n_minus_1_sd():
    names, values = fixed_matrix("scale(x) + scale(x, center = FALSE) + scale(x, scale = FALSE)", frame6())
    assert names == ("(Intercept)", "scale(x)", "scale(x, center = FALSE)", "scale(x, scale = FALSE)")
    np.testing.assert_allclose(values[:, 1], [-1.00985817, -0.83673963, -0.49050254, 0.02885309, 0.72132726,
                                              1.58691998], atol=5e-9)
    np.testing.assert_allclose(values[:, 2], [0.10576239, 0.21152477, 0.42304954, 0.74033670, 1.16338625,
                                              1.69219818], atol=5e-9)
    np.testing.assert_allclose(values[:, 3], np.array(X6) - np.mean(X6))


def test_scale_of_a_constant_is_refused():
    with pytest.raises(DataError, match="cannot be scaled"):
        fixed_matrix("scale(x)", frame6().assign(x=2.0))


def test_factor_of_integers_has_numeric_levels():
    names, values = fixed_matrix("factor(d)", frame6())
    assert names == ("(Intercept)", "factor(d)1", "factor(d)2")
    np.testing.assert_array_equal(values[:, 1:], [[0, 0], [1, 0], [1, 0], [0, 1], [0, 0], [0, 1]])


def test_factor_levels_sort_numerically_and_print_as_r():
    frame = frame6().assign(d=[10.0, 9.0, 100000.0, 2.5, 9.0, 10.0])
    names, _ = fixed_matrix("factor(d)", frame)
    assert names == ("(Intercept)", "factor(d)9", "factor(d)10", "factor(d)1e+05")


@pytest.mark.parametrize("spelling", ["f", "factor(f)", "as.factor(f)"])
def test_text_is_a_factor_with_treatment_contrasts(spelling):
    names, values = fixed_matrix(spelling, frame6())
    assert names == ("(Intercept)", f"{spelling}b", f"{spelling}c")
    np.testing.assert_array_equal(values[:, 1:], [[1, 0], [0, 0], [0, 1], [0, 0], [1, 0], [0, 1]])


def test_ordered_factor_has_polynomial_contrasts():
    names, values = fixed_matrix("ordered(f)", frame6())
    assert names == ("(Intercept)", "ordered(f).L", "ordered(f).Q")
    r_contr_poly = {"a": [-0.7071068, 0.4082483], "b": [0.0, -0.8164966], "c": [0.7071068, 0.4082483]}
    np.testing.assert_allclose(values[:, 1:], [r_contr_poly[v] for v in frame6()["f"]], atol=5e-8)


def test_pandas_ordered_categorical_is_an_ordered_factor():
    frame = frame6().assign(f=pd.Categorical(frame6()["f"], ["c", "a", "b"], ordered=True))
    names, values = fixed_matrix("f", frame)
    assert names == ("(Intercept)", "f.L", "f.Q")
    assert values[2, 1] == pytest.approx(-0.7071068, abs=5e-8)  # level c is the first


@pytest.mark.parametrize(("kind", "levels", "matrix", "suffixes"), [
    ("poly", 4, [[-0.6708204, 0.5, -0.2236068], [-0.2236068, -0.5, 0.6708204], [0.2236068, -0.5, -0.6708204],
                 [0.6708204, 0.5, 0.2236068]], (".L", ".Q", ".C")),
    ("sum", 3, [[1, 0], [0, 1], [-1, -1]], ("1", "2")),
    ("helmert", 3, [[-1, -1], [1, -1], [0, 2]], ("1", "2")),
    ("treatment", 3, [[0, 0], [1, 0], [0, 1]], ("b", "c")),
    ("SAS", 3, [[1, 0], [0, 1], [0, 0]], ("a", "b")),
])
def test_contrast_matrices_are_r(kind, levels, matrix, suffixes):
    values, names = contrast_matrix(kind, tuple("abcd"[:levels]))
    np.testing.assert_allclose(values, matrix, atol=5e-8)
    assert names == suffixes


def test_contr_poly_names_beyond_cubic():
    assert contrast_matrix("poly", tuple("abcdef"))[1] == (".L", ".Q", ".C", "^4", "^5")


def test_c_sets_contrasts():
    names, values = fixed_matrix("C(f, contr.sum)", frame6())
    assert names == ("(Intercept)", "C(f, contr.sum)1", "C(f, contr.sum)2")
    np.testing.assert_array_equal(values[:, 1:], [[0, 1], [1, 0], [-1, -1], [1, 0], [0, 1], [-1, -1]])


def test_relevel_changes_the_reference():
    names, _ = fixed_matrix('relevel(f, ref = "c")', frame6())
    assert names == ("(Intercept)", 'relevel(f, ref = "c")a', 'relevel(f, ref = "c")b')


def test_as_numeric_of_a_factor_is_its_level_index():
    names, values = fixed_matrix("as.numeric(factor(f)) + as.numeric(d)", frame6())
    assert names == ("(Intercept)", "as.numeric(factor(f))", "as.numeric(d)")
    np.testing.assert_array_equal(values[:, 1], [2, 1, 3, 1, 2, 3])
    np.testing.assert_array_equal(values[:, 2], [0, 1, 1, 2, 0, 2])


def test_as_numeric_of_text_that_is_not_a_number_is_refused():
    with pytest.raises(DataError, match="2 values of f are not numbers"):
        fixed_matrix("as.numeric(f)", frame6().assign(f=["1", "2", "x", "3", "y", "4"]))


def test_elementwise_functions_and_arithmetic():
    frame = pd.concat([frame6(), frame6()], ignore_index=True)
    names, values = fixed_matrix("log(x) + exp(x/10) + sqrt(x) + I(x^2 - 1) + np.log1p(x) + log(x, 2)", frame)
    assert names == ("(Intercept)", "log(x)", "exp(x/10)", "sqrt(x)", "I(x^2 - 1)", "np.log1p(x)", "log(x, 2)")
    x = np.array(X6 + X6)
    np.testing.assert_allclose(values[:, 1:], np.column_stack([np.log(x), np.exp(x / 10), np.sqrt(x),
                                                               x**2 - 1, np.log1p(x), np.log2(x)]))


def test_r_operator_precedence_inside_i():
    names, values = fixed_matrix("I(-x^2) + I(2^-1 * x) + I(x %% 3) + I(x %/% 3)", frame6())
    x = np.array(X6)
    np.testing.assert_allclose(values[:, 1:], np.column_stack([-(x**2), 0.5 * x, x % 3, x // 3]))
    assert names[1:] == ("I(-x^2)", "I(2^-1 * x)", "I(x%%3)", "I(x%/%3)")


def test_a_comparison_is_a_logical_factor():
    names, values = fixed_matrix("I(x > 3) + I(f == 'a')", frame6())
    assert names == ("(Intercept)", "I(x > 3)TRUE", 'I(f == "a")TRUE')
    np.testing.assert_array_equal(values[:, 1], [0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(values[:, 2], [0, 1, 0, 1, 0, 0])


def test_in_operator_is_an_interaction():
    names, values = fixed_matrix("x %in% f", frame6())
    assert names == ("(Intercept)", "x:fa", "x:fb", "x:fc")  # f by indicators: x alone is not in the model
    np.testing.assert_array_equal(values[:, 1:], [[0, 1, 0], [2, 0, 0], [0, 0, 4], [7, 0, 0], [0, 11, 0],
                                                  [0, 0, 16]])
    names, _ = fixed_matrix("x + x %in% f", frame6())
    assert names == ("(Intercept)", "x", "x:fb", "x:fc")  # f by contrasts: x is an earlier term


def test_interaction_columns_vary_the_first_factor_fastest():
    frame = pd.concat([frame6(), frame6()], ignore_index=True)
    names, _ = fixed_matrix("f*h", frame)
    assert names == ("(Intercept)", "fb", "fc", "hq", "fb:hq", "fc:hq")
    names, _ = fixed_matrix("f:h", frame)
    assert names == ("(Intercept)", "fa:hp", "fb:hp", "fc:hp", "fa:hq", "fb:hq", "fc:hq")
    names, _ = fixed_matrix("h:f + f", frame)  # variables in order of appearance: h before f
    assert names == ("(Intercept)", "fb", "fc", "hq:fa", "hq:fb", "hq:fc")


def test_without_intercept_the_first_factor_gets_every_level():
    names, _ = fixed_matrix("0 + f + h", frame6())
    assert names == ("fa", "fb", "fc", "hq")
    names, _ = fixed_matrix("0 + x + f", frame6())
    assert names == ("x", "fa", "fb", "fc")


def test_poly_in_an_interaction():
    names, values = fixed_matrix("poly(x, 2):h", frame6())
    assert names == ("(Intercept)", "poly(x, 2)1:hp", "poly(x, 2)2:hp", "poly(x, 2)1:hq", "poly(x, 2)2:hq")
    _, poly = fixed_matrix("poly(x, 2)", frame6())
    p = (frame6()["h"] == "p").to_numpy()[:, None]
    np.testing.assert_allclose(values[:, 1:], np.hstack([poly[:, 1:] * p, poly[:, 1:] * ~p]))


def test_boolean_column_is_a_factor_with_both_levels():
    names, values = fixed_matrix("b", frame6().assign(b=[True, False, True, True, False, False]))
    assert names == ("(Intercept)", "bTRUE")
    np.testing.assert_array_equal(values[:, 1], [1, 0, 1, 1, 0, 0])


def test_offset_is_subtracted_and_added_back():
    frame = frame6().assign(g=["g1", "g2"] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        with_offset = lmmdx.fit("y ~ x + offset(log(x)) + (1 | g)", frame)
        shifted = lmmdx.fit("z ~ x + (1 | g)", frame.assign(z=frame["y"] - np.log(frame["x"])))
    assert with_offset.objective == pytest.approx(shifted.objective, rel=1e-10)
    np.testing.assert_allclose(with_offset.beta, shifted.beta, rtol=1e-8)
    np.testing.assert_allclose(with_offset.fitted, shifted.fitted + np.log(frame["x"]), rtol=1e-8)
    np.testing.assert_allclose(with_offset.residuals, shifted.residuals, atol=1e-10)
    assert with_offset.fixed_names == ("(Intercept)", "x")


def test_transforms_use_every_row_as_model_frame_does():
    # R's model.frame evaluates scale(x) on every row, then drops the row with a missing y
    frame = frame6().assign(y=[3.1, np.nan, 5.0, 4.2, 6.8, 7.7])
    formula = parse_formula("y ~ scale(x)")
    data = model_data(formula, frame)
    matrix = model_matrix(formula.fixed, data.variables, len(data.data), "fixed part")
    full = (np.array(X6) - np.mean(X6)) / np.std(X6, ddof=1)
    np.testing.assert_allclose(matrix.values[:, 1], np.delete(full, 1))
    assert data.n_missing == 1


def test_unused_levels_are_dropped_after_missing_rows():
    frame = frame6().assign(y=[3.1, np.nan, 5.0, np.nan, 6.8, 7.7])  # level a only on the dropped rows
    names, _ = fixed_matrix("f", frame)
    assert names == ("(Intercept)", "fc")


def test_too_many_columns_are_refused_before_they_are_built():
    frame = pd.DataFrame({"y": np.arange(50.0), "x": np.arange(50.0)})
    with pytest.raises(DataError, match="asks for 51 columns but there are only 50 observations"):
        fixed_matrix("factor(x) + I(x^2)", frame)


@pytest.mark.parametrize("text", ["y ~ I(9^9^9) + (1 | g)", "y ~ I(9**9**9) + (1 | g)"])
def test_a_huge_constant_is_refused_as_not_finite(text):
    with pytest.raises(DataError, match="evaluates to Inf: not finite"):
        lmmdx.fit(text, frame6())


def test_a_list_literal_is_refused():
    with pytest.raises(FormulaError, match=r"found '\['"):
        lmmdx.fit("y ~ I([1, 2]) + (1 | g)", frame6())


def test_as_character_sorts_levels_as_text():
    names, _ = fixed_matrix("as.character(d)", frame6().assign(d=[10, 9, 100, 9, 10, 2]))
    assert names == ("(Intercept)", "as.character(d)100", "as.character(d)2", "as.character(d)9")
