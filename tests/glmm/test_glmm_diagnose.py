"""GLMM diagnosis: separation (a fixed effect, groups), overdispersion, the seed-like singular fit,
lme4's gradient warning judged scale-free, lme4's 'Rescale variables?' explained."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from support import DATA, run_cli

import lmmdx

GLMM = DATA / "glmm"
REFERENCE = json.loads((GLMM / "glmer_reference.json").read_text())


def fit(formula, data, family, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, data, family=family, **options)


def frame(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(10), 12)
    return pd.DataFrame({"g": [f"g{i}" for i in g], "x": rng.normal(size=g.size), "z": rng.normal(size=g.size),
                         "b": rng.normal(scale=0.5, size=10)[g]})


def test_complete_separation_names_the_predictor():
    data = frame()
    data["y"] = (data["x"] > 0).astype(int)
    diagnosis = fit("y ~ x + z + (1 | g)", data, "binomial").diagnose(optimizers=())
    finding = diagnosis.finding("separation")
    assert finding is not None and finding.severity == "error"
    assert finding.parameters == ("x",) and finding.evidence["complete"]
    assert "infinite in the limit" in finding.explanation
    assert diagnosis.status == "not_identified"
    assert any(r.action == "penalised_fit" for r in finding.remedies)


def test_quasi_separation_by_a_factor_level():
    data = frame(6)
    rng = np.random.default_rng(0)
    data["arm"] = np.where(rng.random(len(data)) < 0.3, "new", "old")
    eta = -0.2 + 0.6 * data["z"] + data["b"]
    data["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    data.loc[data["arm"] == "new", "y"] = 0
    finding = fit("y ~ z + arm + (1 | g)", data, "binomial").diagnose(optimizers=()).finding("separation")
    assert finding is not None and finding.parameters == ("armold",) and not finding.evidence["complete"]


def test_groups_without_variation_are_named():
    data = frame()
    rng = np.random.default_rng(1)
    eta = -0.2 + 0.7 * data["z"] + data["b"]
    data["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    data.loc[data["g"].isin(["g3", "g7"]), "y"] = 0
    diagnosis = fit("y ~ z + (1 | g)", data, "binomial").diagnose(optimizers=())
    finding = diagnosis.finding("group_separation")
    assert finding is not None
    assert finding.evidence["all_zero"] == ["g3", "g7"] and finding.parameters == ("g",)
    assert diagnosis.finding("separation") is None


@pytest.mark.parametrize(("negative_binomial", "expected"), [(True, True), (False, False)])
def test_overdispersion_only_when_present(negative_binomial, expected):
    data = frame(7)
    rng = np.random.default_rng(2)
    mu = np.exp(1.0 + 0.3 * data["z"] + data["b"])
    data["y"] = rng.negative_binomial(2, 2 / (2 + mu)) if negative_binomial else rng.poisson(mu)
    result = fit("y ~ z + (1 | g)", data, "poisson")
    finding = result.diagnose(optimizers=()).finding("overdispersion")
    assert (finding is not None) is expected
    if expected:
        assert finding.evidence["ratio"] > 1.5 and finding.evidence["p_value"] < 1e-6
        assert [r.action for r in finding.remedies] == ["observation_effect", "negative_binomial"]
        assert finding.remedies[0].formula.endswith("+ (1 | obs)")


def test_seed_binomial_slope_diagnosed_like_its_linear_twin():
    case = REFERENCE["seed_binomial_slope"]
    data = pd.read_csv(GLMM / case["data"])
    glmm = fit(case["formula"], data, "binomial").diagnose()
    assert glmm.status == "over_parameterised"
    singular = glmm.finding("singular_fit")
    assert singular is not None and singular.parameters == ("group: corr((Intercept), x)",)
    assert singular.remedies[0].formula == "y ~ x + (1 + x || group)"
    assert glmm.support[0].levels == 8
    linear = fit(case["formula"], data.assign(y=data["y"] + 0.0), None).diagnose(optimizers=())
    assert linear.finding("singular_fit") is not None and linear.status == glmm.status


def test_lme4_gradient_warning_named_a_false_alarm_or_explained():
    case = REFERENCE["contraception_slope"]
    data = pd.read_csv(GLMM / case["data"])
    diagnosis = fit(case["formula"], data, "binomial").diagnose(optimizers=())
    assert diagnosis.status in ("ok", "caution")
    scales = diagnosis.finding("fixed_effect_scales")  # lme4: "very large eigenvalue - Rescale variables?"
    assert scales is not None and scales.parameters[0] == "I(age^2)"
    for f in diagnosis.findings:
        assert f.code != "gradient_not_small"


def test_cli_diagnose_family(capsys, tmp_path):
    data = frame()
    data["y"] = (data["x"] > 0).astype(int)
    path = tmp_path / "sep.csv"
    data.to_csv(path, index=False)
    code, out, err = run_cli(capsys, "diagnose", str(path), "y ~ x + (1 | g)", "--family", "binomial", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["status"] == "not_identified"
    assert payload["findings"][0]["code"] == "separation" and payload["findings"][0]["parameters"] == ["x"]
