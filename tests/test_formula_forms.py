"""Every formula form of lme4's syntax fits, and equivalent spellings give the same fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import REFERENCE, load

import lmmdx


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
    assert a.fixed_names == ("(Intercept)", "Days", "I(Days ** 2)")


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
