"""Findings recorded for each fit of a batch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import load

import lmmdx
from lmmdx.batch.codes import basic_findings
from lmmdx.design import build_design
from lmmdx.engine import Tolerances
from lmmdx.fitting import fit_model
from lmmdx.formula import parse_formula
from lmmdx.model import Model


def quiet_fit(formula, frame, reml=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, frame, reml=reml)


def summary(fit):
    return [(f.code, f.severity, f.parameters) for f in basic_findings(fit)]


def test_clean_fit_has_no_finding():
    assert summary(quiet_fit("Reaction ~ Days + (Days | Subject)", load("sleepstudy.csv"))) == []


def test_seed_example_is_a_perfect_correlation():
    fit = quiet_fit("y ~ x + (x | group)", load("seed_example.csv"))
    assert summary(fit) == [("boundary", "warning", ("correlation of intercept and x by group",))]


def test_zero_intercept_sd():
    fit = quiet_fit("Yield ~ 1 + (1 | Batch)", load("Dyestuff2.csv"))
    assert summary(fit) == [("boundary", "warning", ("intercept SD by Batch",))]


def test_zero_slope_sd_in_a_zero_correlation_model():
    frame = load("seed_example.csv")
    frame["y"] = frame["y"] - 0.5 * frame["x"] * (frame["group"] % 2)  # slopes differ by group parity
    rng = np.random.default_rng(3)
    frame["z"] = rng.normal(size=len(frame))  # a slope with no group variation
    fit = quiet_fit("y ~ z + (z || group)", frame)
    assert ("boundary", "warning", ("slope SD of z by group",)) in summary(fit)


def test_rank_deficiency_names_the_dropped_coefficient():
    frame = load("sleepstudy.csv").assign(Days2=lambda f: 2 * f["Days"])
    fit = quiet_fit("Reaction ~ Days + Days2 + (1 | Subject)", frame)
    assert summary(fit) == [("rank_deficient", "info", ("coefficient of Days2",))]


def test_nonconvergence():
    design = build_design(parse_formula("Reaction ~ Days + (Days | Subject)"), load("sleepstudy.csv"))
    fit = fit_model(Model.from_design(design), tolerances=Tolerances(maxeval=5))
    (finding,) = [f for f in basic_findings(fit) if f.code == "nonconvergence"]
    assert finding.evidence["evaluations"] == 5 and finding.evidence["status"] == "MAXEVAL_REACHED"


@pytest.mark.parametrize("reml", [True, False])
def test_findings_are_plain_values(reml):
    fit = quiet_fit("y ~ x + (x | group)", load("seed_example.csv"), reml=reml)
    for finding in basic_findings(fit):
        assert set(finding.to_dict()) == {"code", "severity", "check", "title", "parameters", "evidence", "explanation",
                                          "remedies"}
