"""Findings, remedies and the diagnosis record."""

from __future__ import annotations

import pytest
from diagnose_support import diagnosed, diagnosed_frame

from lmmdx.diagnose import ACTIONS, Finding, ParameterCombination, Remedy


def test_remedy_actions_are_a_closed_vocabulary():
    assert Remedy("uncorrelated", "y ~ x + (x || g)", "r").action in ACTIONS
    with pytest.raises(ValueError, match="unknown remedy action"):
        Remedy("pray", None, "r")


def test_finding_validates_severity_and_freezes_evidence():
    f = Finding("c", "warning", ["a"], {"x": 1.0}, "text")
    assert f.parameters == ("a",)
    with pytest.raises(TypeError):
        f.evidence["x"] = 2.0  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown severity"):
        Finding("c", "fatal", (), {}, "text")  # type: ignore[arg-type]


def test_diagnosis_queries():
    d = diagnosed_frame("one_per_level")
    assert d.severity == "error"
    assert all(f.severity == "error" for f in d.at_least("error"))
    assert len(d.at_least("info")) == len(d.findings)
    assert d.finding("no_such_code") is None
    assert diagnosed("sleep").severity is None and diagnosed("sleep").findings == ()
    assert "over_parameterised" in repr(diagnosed("seed"))


def test_combination_wording():
    combo = ParameterCombination(1e-9, {"a": 0.7, "b": -0.7, "c": 0.05})
    assert combo.describe() == "0.70 a - 0.70 b"
    assert combo.plain() == "separate a from b"
    assert ParameterCombination(0.0, {"a": 1.0}).plain() == "determine a"
