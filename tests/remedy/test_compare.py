"""The remedy report: every strategy fitted on the seed example and on sleepstudy (issue 6's acceptance)."""

from __future__ import annotations

import math
import warnings

import pytest
from support import load

import lmmdx
from lmmdx.errors import LmmdxError
from lmmdx.remedy import RemedyReport, remedies


def _fit(data: str, formula: str, reml: bool = True) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit(formula, load(data), reml=reml)


@pytest.fixture(scope="module")
def seed() -> RemedyReport:
    return _fit("seed_example.csv", "y ~ x + (x | group)").remedies()


def test_seed_report_contains_every_strategy(seed):
    names = [c.name for c in seed.candidates]
    assert names == [
        "maximal",
        "zero_correlation",
        "pca_reduced",
        "maximal_feasible",
        "lrt_selected",
        "intercept_only",
        "penalized",
        "fixed_effects",
        "cluster_robust",
    ]
    assert seed.candidate("zero_correlation").formula == "y ~ x + (1 + x || group)"
    assert seed.candidate("pca_reduced").formula == "y ~ x + (1 | group)"
    assert seed.candidate("lrt_selected").formula == "y ~ x + (1 + x || group)"
    assert seed.candidate("intercept_only").formula == "y ~ x + (1 | group)"
    assert seed.candidate("fixed_effects").formula == "y ~ x + C(group, contr.sum) + x:C(group, contr.sum)"
    assert seed.candidate("cluster_robust").method == "cluster_robust"
    assert seed.candidate("maximal").singular and seed.candidate("maximal").verdict != "ok"
    assert seed.candidate("intercept_only").same_as == "pca_reduced"


def test_seed_penalised_fit_is_strictly_inside_the_parameter_space(seed):
    pen = seed.candidate("penalized")
    assert pen.method == "penalized" and pen.converged and not pen.singular
    fit = pen.fit.fit  # PenalizedFit → Fit at the penalised optimum
    slope_sd = fit.random_effects[1].sd
    corr = fit.correlations[0].corr
    assert slope_sd > 0.1 and -1 < corr < 0.99
    assert slope_sd == pytest.approx(0.342, abs=1e-3) and corr == pytest.approx(0.778, abs=1e-3)


def test_seed_selected_model_is_non_singular_and_its_x_interval_is_printed(seed):
    chosen = seed.selected_candidate
    assert seed.selected == "lrt_selected"
    assert chosen.usable and not chosen.singular
    x = chosen.effect("x")
    assert x.ci_lower < x.estimate < x.ci_upper and x.df == pytest.approx(6.47, abs=0.01)
    text = seed.summary()
    assert f"x: {x.estimate:#.4g} (95% CI {x.ci_lower:#.4g} to {x.ci_upper:#.4g}" in text
    assert "Recommendation: lrt_selected" in text


def test_seed_tests_explain_what_was_kept_and_dropped(seed):
    feasible = seed.candidate("maximal_feasible")
    assert [t.action for t in feasible.tests] == ["kept", "kept without correlations"]
    (lrt,) = seed.candidate("lrt_selected").tests
    assert lrt.parameter == "group: x" and lrt.action == "kept" and 0.05 < lrt.p_value < 0.2
    assert "p = 0.0976" in seed.candidate("lrt_selected").reason
    assert "χ²(1) = 5.13" in seed.candidate("zero_correlation").reason


def test_seed_sensitivity_is_robust_for_x(seed):
    assert seed.sensitivity.verdict == "robust"
    (effect,) = seed.sensitivity.effects
    assert effect.term == "x" and not effect.sign_change and not effect.crosses and effect.p_max < 0.05
    # compared: distinct usable models only (not the singular maximal, not the duplicates)
    assert effect.compared == 5


def test_sleepstudy_selection_keeps_the_full_model():
    report = _fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)").remedies()
    chosen = report.selected_candidate
    assert report.selected == "lrt_selected" and chosen.same_as == "maximal"
    assert chosen.formula == "Reaction ~ Days + (Days | Subject)"
    assert report.candidate("pca_reduced").same_as == "maximal"
    assert chosen.effect("Days").df == pytest.approx(17.0, rel=1e-3)


def test_aic_selection_and_ml_fits():
    report = remedies(_fit("seed_example.csv", "y ~ x + (x | group)", reml=False), select="aic")
    assert "aic_selected" in [c.name for c in report.candidates]
    assert {c.method for c in report.candidates} == {"ml", "penalized", "fixed_effects", "cluster_robust"}


def test_effects_of_interest_are_checked():
    fit = _fit("seed_example.csv", "y ~ x + (x | group)")
    report = fit.remedies(["(Intercept)"], workers=2)
    assert report.effects == ("(Intercept)",)
    assert all(c.effects[0].term == "(Intercept)" for c in report.candidates)
    with pytest.raises(LmmdxError, match="no fixed effect called 'z'"):
        fit.remedies(["z"])


def test_find_links_formulas_however_spelled(seed):
    assert seed.find("y ~ x + (x || group)").name == "zero_correlation"
    assert seed.find("y ~ 1 + x + (1 | group)").name == "pca_reduced"
    assert seed.find("y ~ x + (0 + x | group)") is None


def test_progress_is_reported_for_each_strategy():
    calls = []
    _fit("seed_example.csv", "y ~ x + (x | group)").remedies(
        progress=lambda *a: calls.append(a), thorough=False
    )
    assert [c[0] for c in calls] == list(range(1, len(calls) + 1)) and calls[-1][1] == len(calls)


def test_not_estimable_effects_are_nan():
    data = load("seed_example.csv")
    data["w"] = data["group"] % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = lmmdx.fit("y ~ x + w + (1 | group)", data).remedies(["w"])
    fe = report.candidate("fixed_effects")
    assert math.isnan(fe.effect("w").estimate) and "not estimable" in fe.reason


@pytest.mark.parametrize(
    ("data", "formula"),
    [
        ("seed_example.csv", "y ~ x + (x | group)"),
        ("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)"),
        ("Pastes.csv", "strength ~ 1 + (1 | batch/cask)"),
    ],
)
def test_every_refit_the_diagnosis_proposes_is_a_candidate(data, formula):
    fit = _fit(data, formula)
    report = fit.remedies(thorough=False)
    refits = [
        r
        for f in fit.diagnose().findings
        for r in f.remedies
        if r.action in ("uncorrelated", "drop_slope", "intercept_only", "drop_term", "penalised_fit")
    ]
    assert refits
    for remedy in refits:
        candidate = report.for_remedy(remedy)
        assert candidate is not None, remedy
        if remedy.action != "penalised_fit":
            assert lmmdx.remedy.same_model(candidate.formula, remedy.formula)
    assert "the diagnosis's remedies are these candidates" in report.summary()


def test_seed_links_by_name():
    fit = _fit("seed_example.csv", "y ~ x + (x | group)")
    report = fit.remedies(thorough=False)
    by_action = {r.action: report.for_remedy(r) for f in fit.diagnose().findings for r in f.remedies}
    assert by_action["uncorrelated"].name == "zero_correlation"
    assert by_action["intercept_only"].name == "intercept_only"
    assert by_action["penalised_fit"].name == "penalized"
    assert by_action["more_levels"] is None


def test_candidates_carry_their_diagnosis(seed):
    assert seed.candidate("maximal").diagnosis.status == "over_parameterised"
    assert seed.candidate("maximal").verdict == "over_parameterised"
    assert seed.candidate("lrt_selected").diagnosis.status in ("ok", "caution")
    assert not seed.candidate("maximal").usable
