"""Every formula form of lme4's syntax fits, and equivalent spellings give the same fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import REFERENCE, load

import lmmdx
from lmmdx.formula import quote_name


def quiet_fit(formula: str, data: pd.DataFrame, reml: bool = True) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, data, reml=reml)


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    data = load("sleepstudy.csv")
    rng = np.random.default_rng(1)
    data["z"] = rng.normal(size=len(data))
    data["arm"] = np.where(data["Subject"] % 2 == 0, "treated", "control")
    data["late"] = data["Days"] >= 5
    data["site"] = np.where(data["Subject"] % 3 == 0, "north", "south")
    return data


def same_fit(a: lmmdx.Fit, b: lmmdx.Fit) -> None:
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-6)
    np.testing.assert_allclose(a.sigma, b.sigma, rtol=1e-6)


def test_power_spellings_agree(sleep):
    a = quiet_fit("Reaction ~ Days + I(Days^2) + (1 | Subject)", sleep)
    b = quiet_fit("Reaction ~ Days + I(Days**2) + (1 | Subject)", sleep)
    c = quiet_fit("Reaction ~ Days + d2 + (1 | Subject)", sleep.assign(d2=sleep["Days"] ** 2))
    same_fit(a, b)
    same_fit(a, c)
    assert a.fixed_names == ("(Intercept)", "Days", "I(Days^2)")  # R's deparse, as lme4 names it


def test_function_of_a_column(sleep):
    a = quiet_fit("Reaction ~ log(Days + 1) + (1 | Subject)", sleep)
    b = quiet_fit("Reaction ~ ld + (1 | Subject)", sleep.assign(ld=np.log(sleep["Days"] + 1)))
    same_fit(a, b)


def test_response_expression(sleep):
    a = quiet_fit("log(Reaction) ~ Days + (1 | Subject)", sleep)
    b = quiet_fit("lr ~ Days + (1 | Subject)", sleep.assign(lr=np.log(sleep["Reaction"])))
    same_fit(a, b)


def test_categorical_string_and_pandas_category_agree(sleep):
    a = quiet_fit("Reaction ~ Days + arm + (1 | Subject)", sleep)
    b = quiet_fit("Reaction ~ Days + arm + (1 | Subject)", sleep.assign(arm=pd.Categorical(sleep["arm"])))
    same_fit(a, b)
    assert a.fixed_names == ("(Intercept)", "Days", "armtreated")  # first level is the reference


def test_boolean_predictor_is_categorical(sleep):
    a = quiet_fit("Reaction ~ late + (1 | Subject)", sleep)
    b = quiet_fit("Reaction ~ l01 + (1 | Subject)", sleep.assign(l01=sleep["late"].astype(float)))
    same_fit(a, b)
    assert a.fixed_names == ("(Intercept)", "lateTRUE")


def test_interactions(sleep):
    star = quiet_fit("Reaction ~ Days * arm + (1 | Subject)", sleep)
    colon = quiet_fit("Reaction ~ Days + arm + Days:arm + (1 | Subject)", sleep)
    same_fit(star, colon)
    assert len(star.beta) == 4
    assert star.fixed_names[-1] in ("Days:armtreated", "armtreated:Days")


def test_cake_interaction_names_match_lme4():
    case = REFERENCE["cake_interaction_reml"]
    fit = quiet_fit(case["formula"], load("cake.csv"))
    assert list(fit.fixed_names) == list(case["beta"])


@pytest.mark.parametrize("spelling", ["Reaction ~ 0 + Days + (1 | Subject)", "Reaction ~ Days - 1 + (1 | Subject)"])
def test_intercept_removal(sleep, spelling):
    fit = quiet_fit(spelling, sleep)
    assert fit.fixed_names == ("Days",)


def test_intercept_only_fixed_part(sleep):
    fit = quiet_fit("Reaction ~ 1 + (1 | Subject)", sleep)
    assert fit.fixed_names == ("(Intercept)",)


def test_random_slope_forms(sleep):
    a = quiet_fit("Reaction ~ Days + (Days | Subject)", sleep)
    b = quiet_fit("Reaction ~ Days + (1 + Days | Subject)", sleep)
    same_fit(a, b)
    assert a.theta.size == 3
    three = quiet_fit("Reaction ~ Days + z + (1 + Days + z | Subject)", sleep)
    assert three.theta.size == 6
    assert len(three.correlations) == 3
    slope_only = quiet_fit("Reaction ~ Days + (0 + Days | Subject)", sleep)
    assert [c.term for c in slope_only.random_effects] == ["Days", None]


def test_uncorrelated_terms_split_as_lme4(sleep):
    a = quiet_fit("Reaction ~ Days + (Days || Subject)", sleep)
    b = quiet_fit("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", sleep)
    same_fit(a, b)
    case = REFERENCE["sleepstudy_zerocorr_reml"]
    assert a.objective == pytest.approx(case["objective"], abs=1e-4)
    assert a.correlations == ()


def test_nested_equals_explicit_interaction():
    pastes = load("Pastes.csv")
    nested = quiet_fit("strength ~ 1 + (1 | batch/cask)", pastes)
    explicit = quiet_fit("strength ~ 1 + (1 | batch) + (1 | batch:cask)", pastes)
    same_fit(nested, explicit)
    assert dict(nested.ngroups) == {"batch:cask": 30, "batch": 10}
    # the sample column is the same interaction written out
    same_fit(nested, quiet_fit("strength ~ 1 + (1 | batch) + (1 | sample)", pastes))


def test_crossed_and_partially_crossed(sleep):
    pen = quiet_fit("diameter ~ 1 + (1 | plate) + (1 | sample)", load("Penicillin.csv"))
    assert dict(pen.ngroups) == {"plate": 24, "sample": 6}
    partial = quiet_fit("Reaction ~ Days + (Days | Subject) + (1 | site)", sleep)
    assert dict(partial.ngroups) == {"Subject": 18, "site": 2}
    assert partial.theta.size == 4


def test_numeric_grouping_is_categorical(sleep):
    a = quiet_fit("Reaction ~ Days + (1 | Subject)", sleep)
    b = quiet_fit("Reaction ~ Days + (1 | Subject)", sleep.assign(Subject="s" + sleep["Subject"].astype(str)))
    same_fit(a, b)
    assert a.ngroups["Subject"] == 18


def test_aliased_fixed_columns_are_dropped_and_named(sleep):
    data = sleep.assign(days2=2 * sleep["Days"])
    fit = quiet_fit("Reaction ~ Days + days2 + (1 | Subject)", data)
    assert fit.fixed_names == ("(Intercept)", "Days")
    assert fit.dropped_fixed == ("days2",)
    assert any("days2" in w for w in fit.warnings)


def test_missing_rows_are_dropped_and_counted(sleep):
    data = sleep.copy()
    data.loc[[0, 5, 9], "Reaction"] = np.nan
    data.loc[[20], "Subject"] = np.nan
    data.loc[[30], "arm"] = None  # an unused column: its missing values do not matter
    with pytest.warns(lmmdx.LmmdxWarning, match="dropped 4 rows"):
        fit = lmmdx.fit("Reaction ~ Days + (1 | Subject)", data)
    assert fit.nobs == 176
    assert fit.n_missing == 4


def test_polars_and_pyarrow_tables(sleep):
    polars = pytest.importorskip("polars")
    pyarrow = pytest.importorskip("pyarrow")
    base = quiet_fit("Reaction ~ Days + (Days | Subject)", sleep)
    same_fit(base, quiet_fit("Reaction ~ Days + (Days | Subject)", polars.from_pandas(sleep)))
    same_fit(base, quiet_fit("Reaction ~ Days + (Days | Subject)", pyarrow.Table.from_pandas(sleep)))


def test_ml_and_reml(sleep):
    reml = quiet_fit("Reaction ~ Days + (Days | Subject)", sleep)
    ml = quiet_fit("Reaction ~ Days + (Days | Subject)", sleep, reml=False)
    assert ml.objective == pytest.approx(REFERENCE["sleepstudy_slope_ml"]["objective"], abs=1e-4)
    assert ml.deviance == ml.objective and reml.deviance is None


def test_fit_is_immutable(sleep):
    fit = quiet_fit("Reaction ~ Days + (1 | Subject)", sleep)
    with pytest.raises(AttributeError):
        fit.sigma = 1.0
    with pytest.raises(ValueError):
        fit.beta[0] = 0.0


def test_no_fixed_effects_at_all(sleep):
    fit = quiet_fit("Reaction ~ 0 + (1 | Subject)", sleep)
    assert fit.fixed_names == () and fit.beta.size == 0
    assert fit.sigma > 0 and fit.converged


def test_missing_values_in_nullable_integer_columns_are_counted(sleep):
    data = sleep.assign(Days=sleep["Days"].astype("Int64"))
    data.loc[[3, 4], "Days"] = pd.NA
    fit = quiet_fit("Reaction ~ Days + (1 | Subject)", data)
    assert fit.nobs == 178 and fit.n_missing == 2


NAMES_THAT_ARE_FUNCTIONS = ["Treatment", "Sum", "Poly", "C", "center", "scale", "log", "exp", "sqrt", "np", "len",
                            "I", "factor", "poly", "offset", "eval", "open", "__import__", "lambda", "pi", "T"]


@pytest.mark.parametrize("name", NAMES_THAT_ARE_FUNCTIONS)
def test_a_column_named_like_a_function_is_the_column(sleep, name):
    # formulaic dropped such names from its required variables: "unsupported operand type(s) for *"
    data = sleep.assign(**{name: sleep["arm"]})
    fit = quiet_fit(f"Reaction ~ Days + {name} + (1 | Subject)", data)
    shown = quote_name(name)  # R writes a name that is not syntactic in backticks: `__import__`
    assert fit.fixed_names == ("(Intercept)", "Days", f"{shown}treated")
    numeric = quiet_fit(f"Reaction ~ Days + {name} + (1 | Subject)", data.assign(**{name: sleep["z"]}))
    assert numeric.fixed_names == ("(Intercept)", "Days", shown)


def test_issue_formulas_with_function_names_as_columns(sleep):
    data = sleep.assign(sex=np.where(sleep["Subject"] % 3 == 0, "F", "M"), Treatment=sleep["arm"],
                        t=sleep["Days"], f=sleep["site"], g=sleep["Subject"], y=sleep["Reaction"])
    fit = quiet_fit("y ~ sex + Treatment + (1 | g)", data)
    assert fit.fixed_names == ("(Intercept)", "sexM", "Treatmenttreated")
    fit = quiet_fit("y ~ scale(t) + f + (scale(t) | g)", data)
    assert fit.fixed_names == ("(Intercept)", "scale(t)", "fsouth")
    same = quiet_fit("y ~ st + f + (st | g)", data.assign(st=(data["t"] - data["t"].mean()) / data["t"].std()))
    same_fit(fit, same)
    both = quiet_fit("y ~ scale(scale) + (1 | g)", data.assign(scale=data["t"]))
    assert both.fixed_names == ("(Intercept)", "scale(scale)")


def test_r_transforms_match_precomputed_columns(sleep):
    fit = quiet_fit("Reaction ~ factor(Days) + (1 | Subject)", sleep)
    assert fit.fixed_names == ("(Intercept)", *(f"factor(Days){d}" for d in range(1, 10)))
    text = quiet_fit("Reaction ~ D + (1 | Subject)", sleep.assign(D=sleep["Days"].map(lambda d: f"d{d}")))
    same_fit(fit, text)
    poly = quiet_fit("Reaction ~ poly(Days, 2) + (1 | Subject)", sleep, reml=False)
    raw = quiet_fit("Reaction ~ Days + I(Days^2) + (1 | Subject)", sleep, reml=False)
    assert poly.objective == pytest.approx(raw.objective, rel=1e-9)  # the same column space, another basis
    offset = quiet_fit("Reaction ~ Days + offset(10 * Days) + (1 | Subject)", sleep)
    assert offset.beta[1] == pytest.approx(quiet_fit("Reaction ~ Days + (1 | Subject)", sleep).beta[1] - 10)
