"""The recommendation rule and the sensitivity verdict."""

from __future__ import annotations

import warnings

import pytest
from support import load

import lmmdx
from lmmdx.remedy.recommend import MIN_LEVELS, sensitivity
from lmmdx.remedy.result import Candidate, EffectEstimate


def _report(data, formula: str) -> lmmdx.RemedyReport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit(formula, data).remedies(thorough=False)


def test_fewer_than_five_levels_recommends_cluster_robust():
    data = load("seed_example.csv")
    report = _report(data[data.group <= 4], "y ~ x + (x | group)")
    assert MIN_LEVELS == 5
    assert report.selected == "cluster_robust"
    assert any("group has 4 levels" in r for r in report.recommendation)
    assert any("fixed_effects" in r for r in report.recommendation)


def test_no_feasible_structure_recommends_the_penalised_fit():
    report = _report(load("Dyestuff2.csv"), "Yield ~ 1 + (1 | Batch)")
    assert report.candidate("maximal_feasible").fit is None
    assert report.selected == "penalized"
    assert report.selected_candidate.usable


def _candidate(name: str, estimate: float, p: float) -> Candidate:
    effect = EffectEstimate("x", estimate, 1.0, 10.0, estimate - 2, estimate + 2, p)
    return Candidate(name, "y ~ x", "reml", True, False, 2, -1.0, 1.0, 1.0, "ok", "", (effect,), fit=object())


@pytest.mark.parametrize(
    ("rows", "verdict"),
    [
        ([(1.0, 0.01), (1.2, 0.001)], "robust"),
        ([(1.0, 0.01), (1.2, 0.2)], "sensitive"),
        ([(1.0, 0.01), (-0.2, 0.8)], "sensitive"),
        ([(1.0, 0.3), (-0.2, 0.8)], "robust"),
        ([(1.0, 0.01)], "undetermined"),
    ],
)
def test_sensitivity_verdicts(rows, verdict):
    candidates = [_candidate(f"c{i}", e, p) for i, (e, p) in enumerate(rows)]
    result = sensitivity(candidates, ["x"])
    assert result.verdict == verdict
    if len(rows) > 1 and rows[1][0] < 0:
        assert result.effects[0].sign_change


def test_a_sensitive_conclusion_names_the_candidates_that_disagree():
    from lmmdx.remedy.recommend import recommend

    chosen = _candidate("lrt_selected", 1.0, 0.01)
    agree = _candidate("intercept_only", 1.1, 0.001)
    dissent = _candidate("cluster_robust", 0.9, 0.09)
    maximal = _candidate("maximal", 1.0, 0.01)
    candidates = {c.name: c for c in (maximal, chosen, agree, dissent)}
    verdict = sensitivity(list(candidates.values()), ["x"])
    name, reasons = recommend(candidates, "lrt_selected", {"g": 8}, verdict)
    assert name == "lrt_selected" and verdict.verdict == "sensitive"
    assert "cluster_robust (estimate 0.9, p = 0.09) disagrees with lrt_selected" in reasons[-1]
    assert "intercept_only" not in reasons[-1]
