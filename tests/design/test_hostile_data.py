"""Regressions found by the fuzz suite (tests/test_fuzz.py): each input once crashed or misled."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import lmmdx
from lmmdx.design import build_design, used_columns
from lmmdx.formula import parse_formula


def frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(list("abcdefgh"), n // 8)
    x = rng.normal(size=n)
    return pd.DataFrame({"y": 2 * x + rng.normal(size=n) + rng.normal(size=8)[np.arange(n) // (n // 8)],
                         "x": x, "g": g})


def one_line_error(formula: str, data: pd.DataFrame, kind: type = lmmdx.DataError) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(kind) as info:
            lmmdx.fit(formula, data)
    assert not [w for w in caught if not issubclass(w.category, lmmdx.LmmdxWarning)]
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("factor", [1e201, 1e-200])
def test_response_of_extreme_magnitude_is_refused(factor):
    # 1e201: y*y overflowed in the internal scaling (RuntimeWarning, then a garbage fit)
    data = frame().assign(y=lambda f: f["y"] * factor)
    message = one_line_error("y ~ x + (1 | g)", data)
    assert "'y'" in message and "rescale" in message


def test_covariate_of_extreme_magnitude_is_refused():
    message = one_line_error("y ~ x + (1 | g)", frame().assign(x=lambda f: f["x"] * 1e160))
    assert "fixed-effects column 'x'" in message and "rescale" in message


def test_constant_response_is_refused():
    # used to return a "fit" with sigma 1.8e-8 and objective -354
    message = one_line_error("y ~ x + (1 | g)", frame().assign(y=2.0))
    assert "same value (2) in all 40 rows" in message


def test_boolean_response_says_boolean():
    message = one_line_error("y ~ x + (1 | g)", frame().assign(y=lambda f: f["x"] > 0))
    assert "is boolean" in message


def test_non_finite_fixed_columns_are_refused_before_the_rank_check():
    # log(0) gave -inf, and the rank check's least squares hung or raised LinAlgError
    data = frame().assign(z=lambda f: np.abs(f["x"]))
    data.loc[3, "z"] = 0.0
    message = one_line_error("y ~ 0 + log(z) + x + (1 | g)", data)
    assert "non-finite" in message and "log(z)" in message


def test_more_fixed_columns_than_observations_is_refused():
    # REML divided by n - p = 0 (ZeroDivisionError in the engine)
    data = frame(8).assign(f=list("abcdefgh"))
    data = data.assign(g=list("aabbccdd"))
    message = one_line_error("y ~ f + (1 | g)", data)
    assert "8 columns" in message and "only 8 observations" in message


@pytest.mark.parametrize("convert", ["string", "nullable"])
def test_pandas_extension_dtypes(convert):
    # a pandas "string" column reached numpy as text: "could not convert string to float"
    data = frame().assign(f=lambda d: np.where(d["x"] > 0, "hi", "lo"))
    data = data.convert_dtypes() if convert == "string" else data.astype({"x": "Float64"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        result = lmmdx.fit("y ~ x + f + (1 | g)", data)
    assert result.fixed_names == ("(Intercept)", "x", "flo")
    reference = lmmdx.fit("y ~ x + f + (1 | g)", frame().assign(f=lambda d: np.where(d["x"] > 0, "hi", "lo")))
    assert result.objective == pytest.approx(reference.objective, rel=1e-10)


def test_names_with_dots_are_columns():
    # formulaic read Sepal.Length as the attribute Length of Sepal: "unknown column 'Sepal'"
    data = frame().rename(columns={"x": "Sepal.Length", "y": "Petal.Width"})
    data["x.1"] = data["Sepal.Length"] ** 2
    result = lmmdx.fit("Petal.Width ~ Sepal.Length + I(x.1^2) + (Sepal.Length | g)", data)
    assert result.fixed_names == ("(Intercept)", "Sepal.Length", "I(x.1^2)")
    plain = lmmdx.fit("y ~ x + I(z^2) + (x | g)", frame().assign(z=lambda f: f["x"] ** 2))
    assert result.objective == pytest.approx(plain.objective, rel=1e-9)


@pytest.mark.parametrize(("rhs", "names"), [
    ("Sepal.Length", ["y", "Sepal.Length"]),
    ("x.1:x", ["y", "x.1", "x"]),
    ("`x.1` + np.log(z)", ["y", "x.1", "z"]),
    ("lambda", ["y", "lambda"]),
    ("I(x * pi) + scale(z, center = FALSE)", ["y", "x", "z"]),
])
def test_used_columns_with_r_names(rhs, names):
    columns = ["y", "Sepal.Length", "x.1", "x", "z", "lambda"]
    assert used_columns(parse_formula(f"y ~ {rhs}"), pd.DataFrame(columns=columns)) == names


def test_log_of_negative_values_warns_nothing():
    data = frame()
    message = one_line_error("y ~ log(x) + (1 | g)", data)
    assert "non-finite" in message


def test_dates_as_covariates_say_what_to_do():
    # used to be "ufunc 'multiply' cannot use operands with types dtype('int64') and dtype('<M8[us]')"
    data = frame().assign(d=pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(40), unit="D"))
    message = one_line_error("y ~ d + (1 | g)", data)
    assert "column 'd' holds dates" in message and "days since" in message
    # as a grouping factor, dates are labels like any other
    data = data.assign(week=data["d"].dt.to_period("W").dt.start_time)
    assert lmmdx.fit("y ~ x + (1 | week)", data).ngroups["week"] == 6


def test_design_keeps_boolean_grouping_and_response_untouched():
    data = frame().assign(b=lambda f: f["x"] > 0)
    design = build_design(parse_formula("y ~ x + (1 | b)"), data)
    assert design.blocks[0].factor.levels == ("False", "True")
