"""The verdict: status and the sentence that puts the worst problem first."""

from __future__ import annotations

from lmmdx.diagnose import Finding, Remedy
from lmmdx.diagnose.verdict import STATUSES, verdict


def _f(code: str, severity: str, title: str, formula: str | None = None) -> Finding:
    remedies = (Remedy("intercept_only", formula, "simpler"),) if formula else ()
    return Finding(code, severity, (), {}, "text", remedies, title=title)  # type: ignore[arg-type]


def test_statuses():
    expected = ("No problem found: the optimum is confirmed by 6 optimiser runs and every "
                "variance-covariance parameter is identifiable from these data.")
    assert verdict((), 6, True) == ("ok", expected)
    status, text = verdict((_f("singular_fit", "warning", "singular fit", "y ~ x + (1 | g)"),), 6, True)
    assert status == "over_parameterised"
    assert text == ("This model is over-parameterised for these data: singular fit. First remedy to try: "
                    "y ~ x + (1 | g) (simpler).")
    assert verdict((_f("residual_not_identifiable", "error", "saturated"),), 6, True)[0] == "not_identified"
    assert verdict((_f("gradient_not_small", "warning", "gradient"),), 6, True)[0] == "not_converged"
    assert verdict((_f("aliased_fixed_effects", "warning", "aliased"),), 6, True)[0] == "caution"
    status, text = verdict((), 0, False, "criterion not finite")
    assert status == "fit_failed" and "criterion not finite" in text
    assert set(STATUSES) == {"ok", "caution", "not_converged", "over_parameterised", "not_identified", "fit_failed"}


def test_info_findings_are_notes():
    status, text = verdict((_f("weak_variance", "info", "weak evidence"),), 1, True)
    assert status == "ok" and text.endswith("Notes: weak evidence.") and "confirmed" not in text
