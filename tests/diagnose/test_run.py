"""The issue's acceptance cases on the shared reference data, end to end through diagnose()."""

from __future__ import annotations

import warnings

import pytest
from diagnose_support import diagnosed, diagnosed_frame, fitted
from support import REFERENCE, load

import lmmdx
from lmmdx.diagnose import Diagnosis


def _codes(d: Diagnosis, severity: str = "info") -> set[str]:
    return {f.code for f in d.at_least(severity)}


def test_seed_example_is_singular_with_slope_and_correlation_named():
    d = diagnosed("seed")
    assert d.status == "over_parameterised"
    assert d.verdict.startswith("This model is over-parameterised for these data")
    finding = d.finding("singular_fit")
    assert finding is not None and finding.severity == "warning"
    assert "group: corr((Intercept), x)" in finding.parameters
    assert "group: x" in finding.parameters
    assert finding.evidence["correlations"]["group: corr((Intercept), x)"] == pytest.approx(1.0, abs=1e-6)
    assert finding.evidence["dimensions_supported"] == 1
    assert finding.evidence["repca_sdev"] == pytest.approx(REFERENCE["seed_example_slope_reml"]["repca_sd"]["group"],
                                                           abs=1e-4)


def test_seed_remedies_include_uncorrelated_and_intercept_only_models():
    finding = diagnosed("seed").finding("singular_fit")
    by_action = {r.action: r.formula for r in finding.remedies}
    assert by_action["uncorrelated"] == "y ~ x + (1 + x || group)"
    assert by_action["intercept_only"] == "y ~ x + (1 | group)"
    assert "penalised_fit" in by_action and "more_levels" in by_action
    assert [r.action for r in finding.remedies][:2] == ["uncorrelated", "intercept_only"]


def test_seed_remedy_formulas_fit_to_lme4s_optima():
    """The remedies are real models: fitted, they reach lme4's optima of the same formulas."""
    finding = diagnosed("seed").finding("singular_fit")
    formula = next(r.formula for r in finding.remedies if r.action == "uncorrelated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = lmmdx.fit(formula, load("seed_example.csv"))
    assert result.objective == pytest.approx(REFERENCE["seed_example_zerocorr_reml"]["objective"], abs=1e-4)


def test_seed_variance_components_have_ses_except_on_the_boundary():
    rows = {c.parameter: c for c in diagnosed("seed").variance_components}
    assert rows["group: corr((Intercept), x)"].status == "boundary"
    assert rows["group: corr((Intercept), x)"].std_error is None
    assert rows["group: corr((Intercept), x)"].scale_value == pytest.approx(1.0, abs=1e-6)
    for name in ("group: (Intercept)", "group: x", "residual"):
        assert rows[name].status == "ok" and rows[name].std_error > 0
    assert rows["residual"].scale_value == pytest.approx(REFERENCE["seed_example_slope_reml"]["sigma"], rel=1e-5)


def test_dyestuff2_has_a_zero_batch_variance():
    d = diagnosed("dyestuff2")
    finding = d.finding("singular_fit")
    assert finding is not None and finding.parameters == ("Batch: (Intercept)",)
    assert finding.evidence["variances"]["(Intercept)"] == 0.0
    assert finding.evidence["level_mean_variance_ratio"] < 1.0
    assert finding.evidence["criterion_increase_into_interior"] > 0.0
    assert finding.remedies[0].action == "drop_term" and finding.remedies[0].formula == "Yield ~ 1"
    row = next(c for c in d.variance_components if c.parameter == "Batch: (Intercept)")
    assert row.estimate == 0.0 and row.status == "boundary" and row.std_error is None


@pytest.mark.parametrize("name", ["sleep", "penicillin", "dyestuff", "cake"])
def test_well_posed_models_have_no_warning(name):
    d = diagnosed(name)
    assert not d.at_least("warning"), [f.code for f in d.findings]
    assert d.status == "ok"
    assert d.verdict.startswith("No problem found")
    assert all(c.status == "ok" and c.std_error > 0 for c in d.variance_components)


def test_constant_within_group_slope_is_flagged_as_confounded():
    d = diagnosed_frame("between")
    finding = d.finding("slope_confounded")
    assert finding is not None and finding.severity == "error"
    assert finding.parameters[0] == "g: x"
    assert finding.evidence["within_share"] < 1e-12
    assert "confounded with the random intercept" in finding.explanation
    assert any(r.formula == "y ~ x + (1 | g)" for r in finding.remedies)
    assert next(s for s in d.support if s.factor == "g").rating == "red"


def test_one_observation_per_level_is_residual_saturation():
    d = diagnosed_frame("one_per_level")
    assert d.status == "not_identified"
    finding = d.finding("residual_not_identifiable")
    assert finding is not None and finding.severity == "error"
    assert set(finding.parameters) == {"id: (Intercept)", "residual"}
    assert "only their sum" in finding.explanation and "one observation per level of id" in finding.title
    assert finding.remedies[0].formula == "y ~ x"
    assert "residual variance not identifiable" in d.verdict
    # the information matrix says the same: residual and id variance trade off exactly
    null = d.finding("information_singular")
    assert null is not None and set(null.parameters) == {"id: (Intercept)", "residual"}


def test_fit_diagnose_delegates_and_can_skip_the_optimizer_check():
    d = fitted("sleep").diagnose(optimizers=())
    assert isinstance(d, Diagnosis) and d.runs == ()
    assert d.variance_components == diagnosed("sleep").variance_components


def test_findings_are_sorted_worst_first_and_carry_their_check():
    d = diagnosed_frame("one_per_level")
    ranks = [("info", "warning", "error").index(f.severity) for f in d.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert {f.check for f in d.findings} <= {"saturation", "support", "boundary", "redundancy", "identifiability",
                                             "convergence", "optimizers", "fixed"}
    assert all(f.check for f in d.findings)


def test_a_model_that_cannot_be_fitted_is_still_diagnosed(monkeypatch):
    from diagnose_support import one_per_level

    from lmmdx.design import build_design
    from lmmdx.diagnose import run
    from lmmdx.errors import FitError
    from lmmdx.formula import parse_formula

    def refuse(design, reml=True):
        raise FitError("the criterion cannot be evaluated on these data")

    monkeypatch.setattr(run, "fit_design", refuse)
    design = build_design(parse_formula("y ~ x + (1 | id)"), one_per_level(), check_identifiable=False)
    d = run.diagnose_design(design)
    assert d.status == "fit_failed"
    assert d.verdict.startswith("This model could not be fitted to these data (the criterion cannot be evaluated")
    assert "one observation per level of id" in d.verdict
    assert d.finding("residual_not_identifiable") is not None
    assert d.variance_components == () and d.runs == () and d.effective_df is None
    assert d.support[0].rating == "red"
