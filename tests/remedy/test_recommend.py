"""The recommendation rule and the sensitivity verdict."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest
from support import load

import lmmdx
from lmmdx.remedy.recommend import MIN_LEVELS, sensitivity
from lmmdx.remedy.result import Candidate, EffectEstimate
from lmmdx.remedy.stepwise import TermTest


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


def _with_tests(candidate: Candidate, *tests: TermTest) -> Candidate:
    return replace(candidate, tests=tests)


def _cases(feasible_tests: tuple[TermTest, ...], selected_tests: tuple[TermTest, ...] = ()) -> dict[str, Candidate]:
    """maximal (singular), maximal_feasible, lrt_selected and penalized, all usable but the maximal."""
    maximal = replace(_candidate("maximal", 1.0, 0.2), singular=True)
    feasible = _with_tests(_candidate("maximal_feasible", 1.0, 0.03), *feasible_tests)
    selected = _with_tests(_candidate("lrt_selected", 1.0, 0.03), *selected_tests)
    penalized = _candidate("penalized", 1.0, 0.04)
    return {c.name: c for c in (maximal, feasible, selected, penalized)}


def _recommend(candidates: dict[str, Candidate]) -> tuple[str, tuple[str, ...]]:
    from lmmdx.remedy.recommend import recommend

    return recommend(candidates, "lrt_selected", {"g": 8}, sensitivity(list(candidates.values()), ["x"]))


def test_a_slope_of_interest_at_zero_may_leave_the_model():
    # its variance is estimated at zero: the model without it is the same fit
    dropped = TermTest("g: x", "dropped", "feasibility", note="variance at zero", of_interest=True, at_zero=True)
    name, reasons = _recommend(_cases((TermTest("g: (Intercept)", "kept", "feasibility"), dropped)))
    assert name == "lrt_selected"
    assert not any("keeps the random slope" in r for r in reasons)


def test_a_slope_of_interest_lost_to_a_failed_fit_sends_the_recommendation_to_the_penalised_fit():
    lost = TermTest("g: x", "dropped", "feasibility", note="does not converge", of_interest=True, at_zero=False)
    assert lost.unsafe_drop
    name, reasons = _recommend(_cases((TermTest("g: (Intercept)", "kept", "feasibility"), lost)))
    assert name == "penalized"
    assert any("leave out g: x" in r and "too liberal" in r for r in reasons)
    # a nuisance slope lost the same way does not
    nuisance = replace(lost, of_interest=False)
    assert _recommend(_cases((nuisance,)))[0] == "lrt_selected"


def test_the_reasons_name_the_slopes_kept_for_the_effects_of_interest():
    feasible = (
        TermTest("g: (Intercept)", "kept", "feasibility"),
        TermTest("g: x", "kept without correlations", "feasibility", of_interest=True),
        TermTest("g: z", "kept", "feasibility"),
    )
    selected = (
        TermTest("g: z", "dropped", "lrt", 0.2, (0, 1), 0.33),
        TermTest("g: x", "kept", "lrt", 0.01, (0, 1), 0.45, note="kept whatever the test", of_interest=True),
    )
    name, reasons = _recommend(_cases(feasible, selected))
    assert name == "lrt_selected"
    assert any("random slope of the effects of interest (g: x)" in r for r in reasons)


def test_remedies_keep_the_slope_of_interest_that_the_lrt_would_drop():
    # tests/data/two_slopes.csv (see tests/remedy/test_stepwise.py): both slopes have p > 0.2
    report = _report(load("two_slopes.csv"), "y ~ x + z + (x + z || g)")
    assert report.selected_candidate.formula == "y ~ x + z + (x + z || g)"
    only_x = lmmdx.fit("y ~ x + z + (x + z || g)", load("two_slopes.csv")).remedies(["x"], thorough=False)
    assert only_x.selected == "lrt_selected"
    assert only_x.selected_candidate.formula == "y ~ x + z + (1 + x || g)"
