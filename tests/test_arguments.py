"""API arguments are type-checked with lmmdx's own one-line errors (issue 12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import DATA

import lmmdx
from lmmdx.errors import DataError, ResourceError

SLEEP = pd.read_csv(DATA / "sleepstudy.csv")
FORMULA = "Reaction ~ Days + (1 | Subject)"


@pytest.mark.parametrize("reml", ["no", "yes", None, 1, 0, "False"])
def test_reml_must_be_a_bool(reml):
    with pytest.raises(DataError, match="reml must be True .* or False"):
        lmmdx.fit(FORMULA, SLEEP, reml=reml)


def test_numpy_bools_are_bools():
    assert lmmdx.fit(FORMULA, SLEEP, reml=np.False_).reml is False


def test_unknown_optimizer():
    with pytest.raises(DataError, match="unknown optimizer 'newton': use one of bobyqa, cobyla, nelder_mead, sbplx"):
        lmmdx.fit(FORMULA, SLEEP, optimizer="newton")


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, 95, "0.95", True])
def test_confidence_level_in_zero_one(level):
    fit = lmmdx.fit(FORMULA, SLEEP)
    with pytest.raises(DataError, match="between 0 and 1"):
        fit.confint("wald", level=level)


def test_level_95_suggests_a_fraction():
    with pytest.raises(DataError, match=r"for 95% write 0.95"):
        lmmdx.fit(FORMULA, SLEEP).confint("wald", level=95)


@pytest.mark.parametrize("seed", [-1, 1.5, "1"])
def test_seed_is_a_non_negative_integer(seed):
    fit = lmmdx.fit(FORMULA, SLEEP)
    with pytest.raises(DataError, match="seed must be a non-negative integer"):
        fit.simulate(2, seed=seed)
    with pytest.raises(DataError, match="seed must be a non-negative integer"):
        fit.confint("bootstrap", nsim=2, seed=seed)


def test_simulate_refuses_what_memory_cannot_hold():
    fit = lmmdx.fit(FORMULA, SLEEP)
    with pytest.raises(ResourceError, match=r"needs about .* GB for 1,000,000,000,000 simulated responses of 180 "
                                            r"observations; the machine has .* GB available: draw them in smaller"):
        fit.simulate(10**12)
    with pytest.raises(DataError, match="nsim must be an integer of at least 0"):
        fit.simulate(-3)
    assert fit.simulate(0).shape == (0, 180)
    assert fit.simulate(3, seed=1).shape == (3, 180)


@pytest.mark.parametrize(("responses", "message"), [
    (5, "responses= must be a list of column names, not int"),
    ([1, 2], "must list column names as strings; got 1"),
    (["Reaction", "Reaction"], "lists 'Reaction' 2 times"),
    (["Days"], "the response column 'Days' is also used on the right-hand side"),
    ([], "responses= is empty"),
])
def test_responses_are_a_list_of_names(responses, message):
    with pytest.raises(DataError, match=message):
        lmmdx.fit_many("y ~ Days + (1 | Subject)", SLEEP, responses=responses)


def test_fit_many_checks_reml_and_optimizer():
    with pytest.raises(DataError, match="reml must be"):
        lmmdx.fit_many("y ~ Days + (1 | Subject)", SLEEP, responses=["Reaction"], reml="no")
    with pytest.raises(DataError, match="unknown optimizer"):
        lmmdx.fit_many("y ~ Days + (1 | Subject)", SLEEP, responses=["Reaction"], optimizer="x")


def test_fit_many_caps_workers_at_the_cpus():
    from lmmdx.workers import worker_count

    assert worker_count(300) <= (len(__import__("os").sched_getaffinity(0)))
    assert worker_count(300, tasks=1) == 1
    assert worker_count(0) >= 1 and worker_count(None) >= 1
    result = lmmdx.fit_many("y ~ Days + (1 | Subject)", SLEEP, responses=["Reaction"], workers=300)
    assert len(result.table) == 1


def test_duplicate_column_names_are_refused():
    frame = pd.concat([SLEEP, SLEEP[["Days"]]], axis=1)
    with pytest.raises(DataError, match="the data have 2 columns named 'Days': rename them"):
        lmmdx.fit(FORMULA, frame)
