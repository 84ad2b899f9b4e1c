"""The invariance self-test and its finding."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
from support import load

import lmmdx
from lmmdx.design import build_design
from lmmdx.engine import Tolerances
from lmmdx.finding import Finding
from lmmdx.fitting import fit_model
from lmmdx.formula import parse_formula
from lmmdx.invariance import AGREEMENT_TOLERANCE, ESTIMATE_TOLERANCE, InvarianceCheck, check_invariance
from lmmdx.invariance import check as check_module
from lmmdx.model import Model


def quiet_fit(formula, frame, reml=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, frame, reml=reml)


def sleep_with_phase():
    return load("sleepstudy.csv").assign(phase=lambda f: np.where(f["Days"] >= 5, 0.5, -0.5))


def test_seed_example_agrees_and_has_no_finding():
    fit = quiet_fit("y ~ x + (x | group)", load("seed_example.csv"), reml=False)
    check = fit.check_invariance()
    assert isinstance(check, InvarianceCheck)
    assert [o.name for o in check.outcomes] == ["rows", "scale_x1000", "scale_x0.001", "sign", "levels"]
    assert all(o.compared and not o.failed for o in check.outcomes)
    assert check.objective_spread <= AGREEMENT_TOLERANCE and check.estimate_spread <= AGREEMENT_TOLERANCE
    assert check.agrees and check.finding is None and check.findings == ()
    assert "No finding" in check.summary()


def test_sleepstudy_optimum_agrees_within_the_optimisers_precision():
    check = check_invariance(quiet_fit("Reaction ~ Days + (Days | Subject)", load("sleepstudy.csv")))
    assert check.objective_spread <= 1e-7
    assert check.estimate_spread <= 1e-5 < ESTIMATE_TOLERANCE  # issue 7's bound for mapped estimates
    assert check.finding is None or check.finding.severity == "info"


def stopped_early(formula: str, frame, reml: bool):
    """A fit whose optimiser was stopped after a few evaluations, short of the optimum."""
    design = build_design(parse_formula(formula), frame)
    return fit_model(Model.from_design(design), reml=reml, tolerances=Tolerances(maxeval=12))


def test_a_lower_optimum_under_another_writing_is_an_error_finding():
    fit = stopped_early("Reaction ~ Days + phase + (phase + Days | Subject)", sleep_with_phase(), reml=False)
    finding = fit.check_invariance().finding
    assert isinstance(finding, Finding)
    assert finding.code == "invariance" and finding.severity == "error"
    best = min(v["objective"] for v in finding.evidence["variants"].values())
    assert best < fit.objective - 1.0
    assert finding.parameters
    assert finding.remedies


def test_a_worse_optimum_under_another_writing_is_a_warning(monkeypatch):
    fit = quiet_fit("Reaction ~ Days + phase + (Days + phase | Subject)", sleep_with_phase(), reml=False)

    def refit_stopped_early(design, reml=True, optimizer="bobyqa"):
        return fit_model(Model.from_design(design), reml=reml, tolerances=Tolerances(maxeval=12))

    monkeypatch.setattr(check_module, "fit_design", refit_stopped_early)
    finding = fit.check_invariance().finding
    assert finding.severity == "warning"
    assert "worse criterion" in finding.explanation and "this fit is the best found" in finding.explanation


def test_payload_is_json_and_lists_every_variant():
    fit = quiet_fit("diameter ~ 1 + (1 | plate) + (1 | sample)", load("Penicillin.csv"))
    payload = fit.check_invariance().to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert json.loads(text)["formula"] == fit.formula
    assert [v["name"] for v in payload["variants"]] == ["rows", "random_terms", "levels"]
    assert payload["objective_spread"] < 1e-7


def test_duplicate_row_labels_are_handled():
    frame = load("seed_example.csv")
    frame.index = np.zeros(len(frame), dtype=int)
    check = quiet_fit("y ~ x + (x | group)", frame, reml=False).check_invariance()
    assert check.objective_spread <= AGREEMENT_TOLERANCE


def test_a_well_determined_three_column_term_is_at_most_info():
    frame = load("sleepstudy.csv")
    rng = np.random.default_rng(4)
    subject = pd.factorize(frame["Subject"])[0]
    frame["z"] = rng.normal(size=len(frame))
    frame["y3"] = (250 + 10 * frame["Days"] + rng.normal(0, 25, 18)[subject]
                   + rng.normal(0, 5, 18)[subject] * frame["Days"] + rng.normal(0, 20, 18)[subject] * frame["z"]
                   + rng.normal(0, 10, len(frame)))
    fit = quiet_fit("y3 ~ Days + z + (Days + z | Subject)", frame, reml=False)
    check = fit.check_invariance()
    assert "inside_terms" in [o.name for o in check.outcomes]
    assert check.objective_spread <= 1e-7
    # a correlation of -0.0024 moves by ~1e-5 on its [-1, 1] scale: the optimiser's precision
    assert check.estimate_spread < ESTIMATE_TOLERANCE
    assert check.finding is None or check.finding.severity == "info"
