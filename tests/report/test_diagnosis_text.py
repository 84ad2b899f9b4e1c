"""Human and JSON views of a diagnosis."""

from __future__ import annotations

import json

from diagnose_support import diagnosed, diagnosed_frame


def test_text_puts_the_verdict_first_then_findings_and_tables():
    text = diagnosed("seed").summary()
    lines = text.splitlines()
    assert lines[0] == "Diagnosis of y ~ x + (x | group) (REML, 160 observations)"
    assert lines[2].startswith("Verdict: This model is over-parameterised for these data")
    order = [text.index(s) for s in ("Verdict:", "Findings (worst first):", "Variance components",
                                     "Data support", "Optimiser check")]
    assert order == sorted(order)
    assert "[warning]" in text and "(singular_fit)" in text
    assert "fit y ~ x + (1 + x || group)" in text
    row = next(line for line in lines if line.startswith(" group: corr((Intercept), x)"))
    assert row.split()[-1] == "boundary"
    assert " group       8" in text and "yellow" in text


def test_payload_carries_everything_and_is_strict_json():
    for d in (diagnosed("seed"), diagnosed_frame("one_per_level"), diagnosed("sleep")):
        payload = json.loads(json.dumps(d.to_dict(), allow_nan=False))
        assert set(payload) >= {"formula", "reml", "nobs", "status", "severity", "verdict", "findings",
                                "variance_components", "information", "support", "optimizer_runs",
                                "objective_spread", "estimate_spread", "effective_df", "residual_df"}
    payload = diagnosed("seed").to_dict()
    finding = payload["findings"][0]
    assert set(finding) == {"code", "severity", "check", "title", "parameters", "evidence", "explanation",
                            "remedies"}
    assert finding["remedies"][0] == {"action": "uncorrelated", "formula": "y ~ x + (1 + x || group)",
                                      "reason": finding["remedies"][0]["reason"], "term": "(1 + x | group)"}
    vc = {row["parameter"]: row for row in payload["variance_components"]}
    assert vc["group: corr((Intercept), x)"]["std_error"] is None
    assert vc["residual"]["std_error"] > 0
    assert payload["support"][0]["obs_per_level"] == {"min": 20.0, "median": 20.0, "max": 20.0}
    assert len(payload["optimizer_runs"]) == 6
    assert 0 <= payload["objective_spread"] < 1e-6
    assert set(payload["estimate_spread"]) == {"group: (Intercept)", "group: x", "group: corr((Intercept), x)",
                                               "residual", "beta: (Intercept)", "beta: x"}
    assert max(payload["estimate_spread"].values()) < 1e-3
