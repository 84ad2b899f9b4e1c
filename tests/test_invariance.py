"""Invariance by construction (issue 7): the optimum does not depend on how the data are written.

Each test fits a model on shared data (sleepstudy, Penicillin, cake, the seed
example) and again after a change that leaves the statistical model as it is:
row order; order of random terms and of the columns inside one term; sign of a
±1 / ±0.5 coding; labels and order of grouping levels; reference level of a
categorical predictor; scale of numeric covariates (×1e-3 … ×1e3) in the fixed
and the random part. The refit's estimates are mapped back onto the original
parametrisation by the exact column maps ``X_b = X_a N`` and ``Z_b = Z_a C``
(computed here, independently of :mod:`lmmdx.invariance`), then compared: the
criterion to 1e-7 relative (REML: after removing its known constant
``2 log|det N|``), β, SEs, σ, random-effect SDs and correlations to 1e-5 relative.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from support import REFERENCE, load

import lmmdx

OBJECTIVE_RTOL = 1e-7
ESTIMATE_RTOL = 1e-5

SLEEP = "Reaction ~ Days + (Days | Subject)"
PENICILLIN = "diameter ~ 1 + (1 | plate) + (1 | sample)"
CAKE = "angle ~ recipe * temperature + (1 | recipe:replicate)"
SEED = "y ~ x + (x | group)"


def _data() -> dict[str, pd.DataFrame]:
    sleep = load("sleepstudy.csv")
    sleep["phase"] = np.where(sleep["Days"] >= 5, 0.5, -0.5)  # ±0.5 coding
    sleep["pm"] = np.where(sleep["Days"] % 2 == 0, 1.0, -1.0)  # ±1 coding
    pen = load("Penicillin.csv")
    pen["c"] = np.where(pen["sample"].isin(["A", "C", "E"]), 1.0, -1.0)
    return {"sleep": sleep, "pen": pen, "cake": load("cake.csv"), "seed": load("seed_example.csv")}


DATA = _data()


def fit(formula: str, data: pd.DataFrame, reml: bool) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, data, reml=reml)


# -- mapping a refit onto the original parametrisation ------------------------------------
def _column_map(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``N`` with ``target = source N`` exactly (asserted)."""
    n_map = np.linalg.lstsq(source, target, rcond=None)[0]
    np.testing.assert_allclose(source @ n_map, target, atol=1e-9 * np.abs(target).max())
    return n_map


def _rows(result: lmmdx.Fit) -> np.ndarray:
    return np.argsort(result.model.design.row_index, kind="stable")


def _covariances(result: lmmdx.Fit) -> list[np.ndarray]:
    return [result.sigma**2 * t @ t.T for t in result.model.deviance.layout.factors(result.theta)]


def _sds_and_corrs(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return sd, corr[np.triu_indices(len(sd), 1)]


def assert_same_optimum(a: lmmdx.Fit, b: lmmdx.Fit) -> None:
    """``b`` (a re-written refit) has ``a``'s optimum once mapped back."""
    ra, rb = _rows(a), _rows(b)
    da, db = a.model.design, b.model.design
    np.testing.assert_array_equal(np.sort(da.row_index), np.sort(db.row_index))
    n_map = _column_map(da.X[ra], db.X[rb])
    shift = 2.0 * np.linalg.slogdet(n_map)[1] if a.reml else 0.0
    assert b.objective - shift == pytest.approx(a.objective, rel=OBJECTIVE_RTOL, abs=0)
    np.testing.assert_allclose(n_map @ b.beta, a.beta, rtol=ESTIMATE_RTOL, atol=0)
    se_b = np.sqrt(np.diag(n_map @ b.vcov_beta @ n_map.T))
    np.testing.assert_allclose(se_b, a.std_errors, rtol=ESTIMATE_RTOL, atol=0)
    assert b.sigma == pytest.approx(a.sigma, rel=ESTIMATE_RTOL, abs=0)
    covs_b = _covariances(b)
    unmatched = list(range(len(db.blocks)))
    for block, cov_a in zip(da.blocks, _covariances(a), strict=True):
        za = block.values[ra]
        match = [i for i in unmatched if db.blocks[i].group == block.group and db.blocks[i].k == block.k
                 and np.linalg.norm(za @ np.linalg.lstsq(za, db.blocks[i].values[rb], rcond=None)[0]
                                    - db.blocks[i].values[rb]) <= 1e-9 * np.linalg.norm(za)]
        assert len(match) == 1, f"no unique match for {block.term.text}"
        unmatched.remove(match[0])
        c_map = _column_map(za, db.blocks[match[0]].values[rb])
        sd_a, corr_a = _sds_and_corrs(cov_a)
        sd_b, corr_b = _sds_and_corrs(c_map @ covs_b[match[0]] @ c_map.T)
        np.testing.assert_allclose(sd_b, sd_a, rtol=ESTIMATE_RTOL, atol=0)
        np.testing.assert_allclose(corr_b, corr_a, rtol=ESTIMATE_RTOL, atol=0)


# -- the changes ---------------------------------------------------------------------------
Change = Callable[[pd.DataFrame], pd.DataFrame]


def permuted(frame: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    return frame.iloc[np.random.default_rng(seed).permutation(len(frame))]


def relabelled(column: str, seed: int = 3) -> Change:
    """New labels whose sorted order differs from the old one."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        old = sorted(frame[column].astype(str).unique())
        new = np.random.default_rng(seed).permutation(len(old))
        mapping = {o: f"lvl{n:03d}" for o, n in zip(old, new, strict=True)}
        return frame.assign(**{column: frame[column].astype(str).map(mapping)})

    return change


def recategorised(column: str, order: list[str] | None = None) -> Change:
    """The same labels as a categorical with another level order (reversed by default)."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        levels = order or sorted(frame[column].astype(str).unique())[::-1]
        return frame.assign(**{column: pd.Categorical(frame[column].astype(str), categories=levels)})

    return change


def scaled(column: str, factor: float) -> Change:
    return lambda frame: frame.assign(**{column: frame[column] * factor})


def flipped(column: str) -> Change:
    return lambda frame: frame.assign(**{column: -frame[column]})


def same(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


SCALES = [1e-3, 1e-2, 0.1, 10.0, 100.0, 1e3]

# (id, data, formula, changed formula, change of data)
CASES: list[tuple[str, str, str, str, Change]] = [
    # row order
    ("sleep-rows-permuted", "sleep", SLEEP, SLEEP, permuted),
    ("sleep-rows-reversed", "sleep", SLEEP, SLEEP, lambda f: f.iloc[::-1]),
    ("pen-rows", "pen", PENICILLIN, PENICILLIN, permuted),
    ("cake-rows", "cake", CAKE, CAKE, permuted),
    ("seed-rows", "seed", SEED, SEED, permuted),
    # order of random terms
    ("sleep-random-terms", "sleep", "Reaction ~ Days + (Days || Subject)",
     "Reaction ~ Days + (0 + Days | Subject) + (1 | Subject)", same),
    ("pen-random-terms", "pen", PENICILLIN, "diameter ~ 1 + (1 | sample) + (1 | plate)", same),
    ("cake-random-terms", "cake", "angle ~ recipe + temp + (1 | replicate) + (1 | recipe:replicate)",
     "angle ~ recipe + temp + (1 | recipe:replicate) + (1 | replicate)", same),
    ("seed-random-terms", "seed", "y ~ x + (x || group)", "y ~ x + (0 + x | group) + (1 | group)", same),
    # order of the columns inside one random term
    ("sleep-inside-term", "sleep", SLEEP, "Reaction ~ Days + (Days + 1 | Subject)", same),
    # sign of a ±1 / ±0.5 coding (and of a continuous covariate)
    ("sleep-sign-pm1", "sleep", "Reaction ~ Days + pm + (1 + pm | Subject)",
     "Reaction ~ Days + pm + (1 + pm | Subject)", flipped("pm")),
    ("sleep-sign-pm05", "sleep", "Reaction ~ Days + phase + (1 + phase | Subject)",
     "Reaction ~ Days + phase + (1 + phase | Subject)", flipped("phase")),
    ("pen-sign-pm1", "pen", "diameter ~ c + (1 | plate) + (1 | sample)",
     "diameter ~ c + (1 | plate) + (1 | sample)", flipped("c")),
    ("seed-sign", "seed", SEED, SEED, flipped("x")),
    # labels and order of grouping levels
    ("sleep-labels", "sleep", SLEEP, SLEEP, relabelled("Subject")),
    ("sleep-level-order", "sleep", SLEEP, SLEEP, recategorised("Subject")),
    ("pen-labels", "pen", PENICILLIN, PENICILLIN, lambda f: relabelled("sample")(relabelled("plate")(f))),
    ("cake-labels", "cake", CAKE, CAKE, relabelled("replicate")),
    ("seed-labels", "seed", SEED, SEED, relabelled("group")),
    ("seed-level-order", "seed", SEED, SEED, recategorised("group")),
    # reference level of a categorical predictor
    ("cake-reference-C", "cake", CAKE, CAKE, recategorised("recipe", ["C", "A", "B"])),
    ("cake-reference-B", "cake", CAKE, CAKE, recategorised("recipe", ["B", "C", "A"])),
    # scale of numeric covariates: fixed and random part (Days, x), fixed only (temperature),
    # random part only (Days in a model without a fixed slope)
    *[(f"sleep-Days-x{s:g}", "sleep", SLEEP, SLEEP, scaled("Days", s)) for s in SCALES],
    *[(f"sleep-zerocorr-Days-x{s:g}", "sleep", "Reaction ~ Days + (Days || Subject)",
       "Reaction ~ Days + (Days || Subject)", scaled("Days", s)) for s in (1e-3, 1e3)],
    *[(f"sleep-random-only-Days-x{s:g}", "sleep", "Reaction ~ 1 + (Days | Subject)",
       "Reaction ~ 1 + (Days | Subject)", scaled("Days", s)) for s in (1e-3, 1e3)],
    *[(f"cake-temperature-x{s:g}", "cake", CAKE, CAKE, scaled("temperature", s)) for s in (1e-3, 1e3)],
    *[(f"seed-x-x{s:g}", "seed", SEED, SEED, scaled("x", s)) for s in (1e-3, 1e3)],
]


@pytest.mark.parametrize("reml", [False, True], ids=["ML", "REML"])
@pytest.mark.parametrize(("data", "formula", "changed", "change"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_optimum_is_invariant(data, formula, changed, change, reml):
    frame = DATA[data]
    assert_same_optimum(fit(formula, frame, reml), fit(changed, change(frame), reml))


INSIDE_3X3 = "Reaction ~ Days + phase + ({} | Subject)"


@pytest.mark.parametrize("reml", [False, True], ids=["ML", "REML"])
def test_order_inside_a_three_column_term(reml):
    frame = DATA["sleep"]
    a = fit(INSIDE_3X3.format("Days + phase"), frame, reml)
    b = fit(INSIDE_3X3.format("phase + Days"), frame, reml)
    assert_same_optimum(a, b)


# -- the headline numbers, checked by hand ------------------------------------------------
@pytest.mark.parametrize("factor", [1e3, 1e-3])
def test_days_rescaled_keeps_lme4s_ml_deviance(factor):
    """lme4 moves from 1751.939 to 1753.149 when Days is multiplied by 1000; lmmdx does not move."""
    frame = DATA["sleep"]
    base = fit(SLEEP, frame, reml=False)
    other = fit(SLEEP, frame.assign(Days=frame["Days"] * factor), reml=False)
    assert other.objective == pytest.approx(REFERENCE["sleepstudy_slope_ml"]["objective"], abs=1e-4)
    assert other.objective == pytest.approx(base.objective, rel=OBJECTIVE_RTOL)
    assert other.beta[1] * factor == pytest.approx(base.beta[1], rel=ESTIMATE_RTOL)
    assert other.std_errors[1] * factor == pytest.approx(base.std_errors[1], rel=ESTIMATE_RTOL)
    assert other.random_effects[1].sd * factor == pytest.approx(base.random_effects[1].sd, rel=ESTIMATE_RTOL)
    assert other.correlations[0].corr == pytest.approx(base.correlations[0].corr, rel=ESTIMATE_RTOL)


@pytest.mark.parametrize("factor", [1e3, 1e-3])
def test_days_rescaled_under_reml_moves_the_criterion_by_its_constant_only(factor):
    frame = DATA["sleep"]
    base = fit(SLEEP, frame, reml=True)
    other = fit(SLEEP, frame.assign(Days=frame["Days"] * factor), reml=True)
    # log|X'V⁻¹X| gains 2 log(factor): the only change of the REML criterion
    assert other.objective - 2.0 * np.log(factor) == pytest.approx(base.objective, rel=OBJECTIVE_RTOL)
    assert other.sigma == pytest.approx(base.sigma, rel=ESTIMATE_RTOL)
    assert other.beta[1] * factor == pytest.approx(base.beta[1], rel=ESTIMATE_RTOL)
    assert other.random_effects[1].sd * factor == pytest.approx(base.random_effects[1].sd, rel=ESTIMATE_RTOL)
    assert other.random_effects[0].sd == pytest.approx(base.random_effects[0].sd, rel=ESTIMATE_RTOL)


def test_reference_level_changes_coefficients_as_the_contrasts_say():
    """ML fits of cake with reference A and with reference C: intercepts differ by recipe C's effect."""
    frame = DATA["cake"]
    a = fit(CAKE, frame, reml=False)
    c = fit(CAKE, recategorised("recipe", ["C", "A", "B"])(frame), reml=False)
    beta_a, beta_c = a.coef(), c.coef()
    assert beta_c["(Intercept)"] == pytest.approx(beta_a["(Intercept)"] + beta_a["recipeC"], rel=ESTIMATE_RTOL)
    assert beta_c["recipeA"] == pytest.approx(-beta_a["recipeC"], rel=ESTIMATE_RTOL)
    assert beta_c["temperature"] == pytest.approx(
        beta_a["temperature"] + beta_a["recipeC:temperature"], rel=ESTIMATE_RTOL)
    assert c.objective == pytest.approx(a.objective, rel=OBJECTIVE_RTOL)
    np.testing.assert_allclose(c.fitted[np.argsort(c.model.design.row_index)],
                               a.fitted[np.argsort(a.model.design.row_index)], rtol=ESTIMATE_RTOL)
