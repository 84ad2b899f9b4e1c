"""Text and ``--json`` payload of an invariance check (:mod:`lmmdx.invariance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .payload import clean
from .text import table

if TYPE_CHECKING:
    from ..finding import Finding
    from ..invariance import InvarianceCheck

__all__ = ["finding_lines", "invariance_payload", "invariance_summary"]


def invariance_payload(check: InvarianceCheck) -> dict[str, Any]:
    """The check as the ``lmmdx check-invariance --json`` object."""
    finding = check.finding
    return clean(
        {
            "formula": check.formula,
            "reml": check.reml,
            "objective": check.objective,
            "objective_spread": check.objective_spread,
            "estimate_spread": check.estimate_spread,
            "worst_parameter": check.worst_parameter,
            "agrees": check.agrees,
            "variants": [
                {
                    "name": o.name,
                    "description": o.description,
                    "objective": o.objective,
                    "objective_difference": o.objective_difference if o.compared else None,
                    "estimate_difference": o.estimate_difference if o.compared else None,
                    "worst": o.worst,
                    "note": o.note,
                }
                for o in check.outcomes
            ],
            "findings": [] if finding is None else [finding.to_dict()],
        }
    )


def finding_lines(finding: Finding) -> list[str]:
    """A finding as a few lines of text."""
    lines = [f"{finding.severity}: {finding.code}" + (f" ({', '.join(finding.parameters)})"
                                                      if finding.parameters else "")]
    lines.append(f"  {finding.explanation}")
    lines.extend(f"  remedy: {remedy.reason}" for remedy in finding.remedies)
    return lines


def _diff(value: float) -> str:
    return f"{value:.1e}"


def invariance_summary(check: InvarianceCheck) -> str:
    """Variants, their differences from the original fit, and the finding."""
    kind = "REML" if check.reml else "ML"
    lines = [f"Invariance check of {check.formula} ({kind}, criterion {check.objective:.4f})", ""]
    rows = []
    for o in check.outcomes:
        if o.compared:
            rows.append([o.name, _diff(o.objective_difference), _diff(o.estimate_difference), o.worst or ""])
        else:
            rows.append([o.name, "-", "-", f"{'failed' if o.failed else 'skipped'}: {o.note}"])
    lines += table(["variant", "criterion", "estimates", "moved most"], rows, "lrrl")
    lines += ["", (f"Largest relative differences: criterion {_diff(check.objective_spread)}, "
                  f"estimates {_diff(check.estimate_spread)}.")]
    finding = check.finding
    lines.append(f"No finding: everything agrees to {check.tolerance:g} relative." if finding is None else "")
    if finding is not None:
        lines += finding_lines(finding)
    return "\n".join(lines).rstrip()
