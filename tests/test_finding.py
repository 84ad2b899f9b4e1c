"""The shared Finding and Remedy values."""

from __future__ import annotations

import pickle

import pytest

from lmmdx.finding import Finding, FrozenMapping, Remedy, sd_name, severity_rank


@pytest.mark.parametrize("severity", ["fatal", ""])
def test_finding_rejects_unknown_severity(severity):
    with pytest.raises(ValueError):
        Finding("x", severity, (), {}, "")


def test_remedy_rejects_unknown_action():
    with pytest.raises(ValueError):
        Remedy("pray", None, "it might converge")


def test_finding_is_read_only_and_pickles():
    finding = Finding("boundary", "warning", ["slope SD of x by g"], {"theta": [1.0, 0.0]}, "singular",
                      (Remedy("uncorrelated", "y ~ x + (x || g)", "drop the correlation"),))
    assert finding.parameters == ("slope SD of x by g",)
    with pytest.raises(TypeError):
        finding.evidence["theta"] = 0  # type: ignore[index]
    again = pickle.loads(pickle.dumps(finding))
    assert again == finding and isinstance(again.evidence, FrozenMapping)
    assert again.to_dict()["remedies"] == [
        {"action": "uncorrelated", "formula": "y ~ x + (x || g)", "reason": "drop the correlation", "term": None}
    ]


def test_names_and_ranks():
    assert sd_name("g", "(Intercept)") == "intercept SD by g"
    assert sd_name("g", "x") == "slope SD of x by g"
    assert severity_rank("error") > severity_rank("warning") > severity_rank("info")
