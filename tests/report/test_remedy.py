"""Text and JSON of a remedy report."""

from __future__ import annotations

import json
import warnings

import pytest
from support import load

import lmmdx


@pytest.fixture(scope="module")
def report() -> lmmdx.RemedyReport:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit("y ~ x + (x | group)", load("seed_example.csv")).remedies()


def test_payload_has_exactly_the_documented_schema(report):
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert set(payload) == {"candidates", "selected", "recommendation", "sensitivity"}
    for candidate in payload["candidates"]:
        assert set(candidate) == {
            "name",
            "formula",
            "method",
            "converged",
            "singular",
            "n_cov_params",
            "loglik",
            "aic",
            "bic",
            "verdict",
            "reason",
            "effects",
        }
        assert candidate["method"] in ("reml", "ml", "penalized", "fixed_effects", "cluster_robust")
        for effect in candidate["effects"]:
            assert set(effect) == {"term", "estimate", "std_error", "df", "ci_lower", "ci_upper", "p_value"}
    assert payload["selected"] in [c["name"] for c in payload["candidates"]]
    assert all(isinstance(r, str) for r in payload["recommendation"])
    assert payload["sensitivity"]["verdict"] == "robust"
    robust = next(c for c in payload["candidates"] if c["name"] == "cluster_robust")
    assert robust["loglik"] is None and robust["n_cov_params"] == 0


def test_text_is_a_side_by_side_table(report):
    text = report.summary()
    lines = text.splitlines()
    header = next(line for line in lines if line.strip().startswith("candidate") and "formula" in line)
    assert all(
        word in header for word in ("method", "conv", "singular", "n_cov", "logLik", "AIC", "BIC", "verdict")
    )
    assert any(line.startswith(" *lrt_selected") for line in lines)
    assert "Effect of x:" in text and "95% CI" in text
    assert "Sensitivity: robust" in text and "Recommendation: lrt_selected" in text
    assert repr(report).startswith("<RemedyReport 'y ~ x + (x | group)'")
