"""`lmmdx fit --ci/--ddf/--anova` and `lmmdx compare` (cli/main.py)."""

from __future__ import annotations

import json

import pytest
from support import DATA, INFERENCE_REFERENCE, same_parameter
from support import run_cli as run

SLEEP = str(DATA / "sleepstudy.csv")
DYESTUFF = str(DATA / "Dyestuff.csv")
PASTES = str(DATA / "Pastes.csv")



def test_fit_json_has_df_and_p_values(capsys):
    code, out, _ = run(capsys, "fit", SLEEP, "Reaction ~ Days + (Days | Subject)", "--json")
    assert code == 0
    payload = json.loads(out)
    reference = INFERENCE_REFERENCE["sleepstudy_slope_reml"]["satterthwaite"]
    for fe, row in zip(payload["fixed_effects"], reference, strict=True):
        assert fe["df"] == pytest.approx(row["df"], rel=1e-3)
        assert fe["p_value"] == pytest.approx(row["Pr(>|t|)"], rel=2e-2)
    assert payload["inference"]["wald_reliable"] is True


def test_fit_kenward_roger(capsys):
    code, out, _ = run(capsys, "fit", str(DATA / "seed_example.csv"), "y ~ x + (x | group)", "--json",
                       "--ddf", "kenward-roger")
    assert code == 0
    payload = json.loads(out)
    reference = INFERENCE_REFERENCE["seed_example_slope_reml"]["kenward_roger"]
    for fe, row in zip(payload["fixed_effects"], reference, strict=True):
        assert fe["df"] == pytest.approx(row["df"], rel=1e-2)
        assert fe["std_error"] == pytest.approx(row["Std. Error"], rel=1e-3)
        assert fe["wald_reliable"] is False


@pytest.mark.parametrize("method", ["wald", "profile"])
def test_ci_json_covers_every_parameter(capsys, method):
    code, out, _ = run(capsys, "fit", PASTES, "strength ~ 1 + (1 | batch/cask)", "--json", "--ci", method)
    assert code == 0
    intervals = json.loads(out)["intervals"]
    reference = INFERENCE_REFERENCE["pastes_nested_reml"]["confint_profile_95"]
    assert len(intervals) == len(reference)
    for item, row in zip(intervals, reference, strict=True):
        assert same_parameter(item["parameter"], row["name"])
        assert set(item) >= {"parameter", "estimate", "lower", "upper", "method"}
        assert item["method"] == method
    if method == "profile":
        batch = intervals[1]
        assert batch["lower"] == 0.0 and batch["upper"] == pytest.approx(2.94659109690393, abs=1e-3)


def test_ci_bootstrap_text_and_anova(capsys):
    code, out, _ = run(capsys, "fit", SLEEP, "Reaction ~ Days + (Days | Subject)", "--ci", "bootstrap",
                       "--nsim", "30", "--seed", "1", "--anova")
    assert code == 0
    assert "Pr(>|t|)" in out and "Satterthwaite" in out
    assert "Type III Analysis of Variance Table" in out
    assert "Parametric-bootstrap 95% confidence intervals:" in out and "sd_Days|Subject" in out


def test_anova_json(capsys):
    code, out, _ = run(capsys, "fit", str(DATA / "cake.csv"), "angle ~ recipe * temperature + (1 | recipe:replicate)",
                       "--json", "--anova", "1")
    assert code == 0
    anova = json.loads(out)["anova"]
    assert anova["type"] == 1 and [t["term"] for t in anova["terms"]] == ["recipe", "temperature",
                                                                          "recipe:temperature"]


def test_compare_text(capsys):
    code, out, _ = run(capsys, "compare", DYESTUFF, "Yield ~ 1 + (1 | Batch)", "Yield ~ 1")
    assert code == 0
    assert "boundary-corrected (0.5 chi2(0) + 0.5 chi2(1))" in out
    assert "AIC" in out and "BIC" in out


def test_compare_json_ml_bootstrap(capsys):
    code, out, _ = run(capsys, "compare", DYESTUFF, "Yield ~ 1", "Yield ~ 1 + (1 | Batch)", "--ml", "--json",
                       "--bootstrap", "20", "--seed", "2")
    assert code == 0
    payload = json.loads(out)
    assert payload["criterion"] == "ML" and payload["df"] == 1
    assert payload["p_value_boundary"] == pytest.approx(payload["p_value"] / 2)
    assert payload["bootstrap_samples"] == 20 and 0 < payload["p_value_bootstrap"] <= 1
    assert payload["small"]["formula"] == "Yield ~ 1"


def test_compare_errors_are_one_line(capsys):
    code, _, err = run(capsys, "compare", SLEEP, "Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (1 | Days)")
    assert code != 0 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "nested" in err
