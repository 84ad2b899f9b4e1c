"""fit_many: one formula, many responses or levels; rows in input order; errors per row."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from support import load

import lmmdx


def genes(count: int = 12, seed: int = 5) -> tuple[pd.DataFrame, list[str]]:
    frame = load("sleepstudy.csv")
    rng = np.random.default_rng(seed)
    names = [f"gene{i}" for i in range(count)]
    for name in names:
        frame[name] = frame["Reaction"] + rng.normal(0.0, 30.0, len(frame))
    return frame, names


def single(formula: str, frame: pd.DataFrame, reml: bool = True) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, frame, reml=reml)


@pytest.mark.parametrize("reml", [True, False])
def test_each_row_equals_its_own_fit(reml):
    frame, names = genes(6)
    result = lmmdx.fit_many("y ~ Days + (Days | Subject)", frame, responses=names, reml=reml)
    table = result.table
    assert list(table["response"]) == names
    assert table["error"].isna().all() and (table["nobs"] == 180).all()
    for name, row in zip(names, table.to_dict("records"), strict=True):
        fit = single(f"{name} ~ Days + (Days | Subject)", frame, reml)
        assert row["objective"] == pytest.approx(fit.objective, rel=1e-9)
        assert row["beta:Days"] == pytest.approx(fit.beta[1], rel=1e-6)
        assert row["se:Days"] == pytest.approx(fit.std_errors[1], rel=1e-5)
        assert row["sd:Subject:Days"] == pytest.approx(fit.random_effects[1].sd, rel=1e-5)
        assert row["sigma"] == pytest.approx(fit.sigma, rel=1e-5)
        assert row["corr:Subject:(Intercept):Days"] == pytest.approx(fit.correlations[0].corr, rel=1e-4)


def test_bad_responses_do_not_stop_the_batch():
    frame, _ = genes(5)
    frame["constant"] = 4.0
    frame["empty"] = np.nan
    frame["text"] = "a"
    frame.loc[[0, 1, 2], "gene1"] = np.nan
    order = ["gene0", "constant", "gene1", "empty", "text", "gene2"]
    result = lmmdx.fit_many("y ~ Days + (1 | Subject)", frame, responses=order)
    table = result.table.set_index("response")
    assert list(table.index) == order
    assert "same value (4)" in table.loc["constant", "error"]
    assert "no rows left" in table.loc["empty", "error"]
    assert "not numeric" in table.loc["text", "error"]
    assert table.loc["gene1", "nobs"] == 177 and table.loc["gene1", "n_dropped"] == 3
    missing = frame.drop(index=[0, 1, 2])
    assert table.loc["gene1", "objective"] == pytest.approx(
        single("gene1 ~ Days + (1 | Subject)", missing).objective, rel=1e-9)
    summary = result.summary
    assert (summary.n_fits, summary.n_failed, summary.n_clean) == (6, 3, 3)
    assert summary.n_with_dropped == 1 and summary.rows_dropped == 3
    constant = "the response '<response>' has the same value (4) in all 180 rows used: there is no variation to model"
    assert (constant, 1) in summary.errors


def test_missing_covariates_are_dropped_once_for_all_responses():
    frame, names = genes(3)
    frame.loc[[5, 6], "Days"] = np.nan
    table = lmmdx.fit_many("y ~ Days + (1 | Subject)", frame, responses=names).table
    assert (table["nobs"] == 178).all() and (table["n_dropped"] == 2).all()


def test_workers_give_the_same_table():
    frame, names = genes(16)
    one = lmmdx.fit_many("y ~ Days + (Days | Subject)", frame, responses=names, workers=1)
    two = lmmdx.fit_many("y ~ Days + (Days | Subject)", frame, responses=names, workers=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.summary == two.summary


def test_progress_is_reported():
    frame, names = genes(4)
    calls = []
    lmmdx.fit_many("y ~ Days + (1 | Subject)", frame, responses=names, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)


def test_by_fits_each_level_on_its_own():
    frame = load("cake.csv")
    result = lmmdx.fit_many("angle ~ temp + (1 | replicate)", frame, by="recipe")
    table = result.table
    assert list(table["recipe"]) == ["A", "B", "C"] and (table["nobs"] == 90).all()
    for recipe, row in zip("ABC", table.to_dict("records"), strict=True):
        fit = single("angle ~ temp + (1 | replicate)", frame[frame["recipe"] == recipe])
        assert row["objective"] == pytest.approx(fit.objective, rel=1e-9)
        assert row["beta:temp"] == pytest.approx(fit.beta[1], rel=1e-6)


def test_by_level_errors_go_to_their_row():
    frame = load("sleepstudy.csv")
    frame["site"] = np.where(frame["Subject"] < 330, "one-subject", "many")
    frame.loc[frame["site"] == "one-subject", "Subject"] = 308
    table = lmmdx.fit_many("Reaction ~ Days + (1 | Subject)", frame, by="site").table.set_index("site")
    assert "only one level" in table.loc["one-subject", "error"]
    assert table.loc["many", "error"] is None or pd.isna(table.loc["many", "error"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "either responses"),
    ({"responses": ["gene0"], "by": "Subject"}, "either responses"),
    ({"responses": ["nope", "gene0"]}, "unknown response column(s) 'nope'"),
    ({"responses": []}, "is empty"),
    ({"by": "nope"}, "unknown column 'nope'"),
])
def test_batch_level_errors(kwargs, message):
    frame, _ = genes(1)
    with pytest.raises(lmmdx.DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lmmdx.fit_many("y ~ Days + (1 | Subject)", frame, **kwargs)


def test_a_design_no_response_can_use_is_one_error():
    frame, names = genes(2)
    with pytest.raises(lmmdx.DataError, match="unknown column 'Dayz'"):
        lmmdx.fit_many("y ~ Dayz + (1 | Subject)", frame, responses=names)
