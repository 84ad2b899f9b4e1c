"""Mapping a refit's estimates onto the original parametrisation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from support import load

import lmmdx
from lmmdx.invariance.compare import estimates, map_onto, relative_difference


def quiet_fit(formula, frame, reml=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, frame, reml=reml)


def positions(fit):
    return np.asarray(fit.model.design.row_index, dtype=np.int64)


def test_estimates_are_named_in_words():
    fit = quiet_fit("Reaction ~ Days + (Days | Subject)", load("sleepstudy.csv"))
    values = estimates(fit)
    assert list(values) == [
        "objective", "intercept", "SE of intercept", "coefficient of Days", "SE of coefficient of Days",
        "residual SD", "intercept SD by Subject", "slope SD of Days by Subject",
        "correlation of intercept and Days by Subject",
    ]
    assert values["slope SD of Days by Subject"] == pytest.approx(5.92213, rel=1e-5)
    assert values["correlation of intercept and Days by Subject"] == pytest.approx(0.0656, abs=1e-3)


def test_rescaled_refit_maps_back_including_the_reml_constant():
    frame = load("sleepstudy.csv")
    base = quiet_fit("Reaction ~ Days + (Days | Subject)", frame)
    other = quiet_fit("Reaction ~ Days + (Days | Subject)", frame.assign(Days=frame["Days"] * 1000))
    assert other.objective - base.objective == pytest.approx(2 * math.log(1000), rel=1e-9)
    mapped = map_onto(base, positions(base), other, positions(other))
    assert mapped.reason is None
    reference = estimates(base)
    for key, value in reference.items():
        assert relative_difference(value, mapped.values[key]) < 1e-5, key


def test_a_refit_that_is_not_a_reparametrisation_is_refused():
    frame = load("sleepstudy.csv").assign(D1=lambda f: f["Days"] + 1)
    base = quiet_fit("Reaction ~ 0 + log(D1) + (1 | Subject)", frame)
    other = quiet_fit("Reaction ~ 0 + log(D1) + (1 | Subject)", frame.assign(D1=frame["Days"] * 10 + 10))
    mapped = map_onto(base, positions(base), other, positions(other))
    assert mapped.values == {} and "reparametrisation" in mapped.reason


def test_refits_on_other_rows_are_refused():
    frame = load("sleepstudy.csv")
    base = quiet_fit("Reaction ~ Days + (1 | Subject)", frame)
    other = quiet_fit("Reaction ~ Days + (1 | Subject)", frame.iloc[:-1])
    assert map_onto(base, positions(base), other, positions(other)).reason == "the refit used other rows"


@pytest.mark.parametrize(("a", "b", "expected"), [
    (1.0, 1.0, 0.0), (0.0, 0.0, 0.0), (2.0, 1.0, 0.5), (-1.0, 1.0, 2.0),
    (float("nan"), float("nan"), 0.0), (float("nan"), 1.0, float("inf")),
])
def test_relative_difference(a, b, expected):
    assert relative_difference(a, b) == expected


def test_correlations_are_measured_on_their_own_scale():
    assert relative_difference(0.002, 0.001) == 0.5
    assert relative_difference(0.002, 0.001, floor=1.0) == pytest.approx(0.001)
