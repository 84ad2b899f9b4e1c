"""A finding: one problem of a fit, as a value (code, severity, parameters, evidence, explanation, remedies).

Checks return findings; warnings and printed text are only views of them. The
fields are those of the diagnosis module's ``Finding`` so the two can be merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["SEVERITIES", "Finding", "Severity", "coefficient_name", "correlation_name", "sd_name"]

Severity = Literal["info", "warning", "error"]

#: Severities from least to most serious.
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a fit.

    Attributes
    ----------
    code : str
        Stable machine-readable code, e.g. ``"boundary"``, ``"nonconvergence"``, ``"invariance"``.
    severity : {"info", "warning", "error"}
        ``info``: worth knowing, the numbers stand; ``warning``: some numbers are
        fragile; ``error``: some reported numbers are wrong or undefined.
    parameters : tuple of str
        The parameters concerned, in words (``"slope SD of x by g"``).
    evidence : Mapping of str to Any
        The numbers behind the finding (JSON-safe values).
    explanation : str
        One or two sentences in plain words.
    remedies : tuple of str
        What to do instead, most promising first.
    """

    code: str
    severity: Severity
    parameters: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    explanation: str = ""
    remedies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "remedies", tuple(self.remedies))
        object.__setattr__(self, "evidence", dict(self.evidence))

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain Python values (the ``--json`` form)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "parameters": list(self.parameters),
            "evidence": dict(self.evidence),
            "explanation": self.explanation,
            "remedies": list(self.remedies),
        }


INTERCEPT = "(Intercept)"


def coefficient_name(term: str) -> str:
    """``"intercept"`` or ``"coefficient of x"``."""
    return "intercept" if term == INTERCEPT else f"coefficient of {term}"


def sd_name(group: str, column: str) -> str:
    """``"intercept SD by g"`` or ``"slope SD of x by g"`` (the words of issue 7's summaries)."""
    return f"intercept SD by {group}" if column == INTERCEPT else f"slope SD of {column} by {group}"


def correlation_name(group: str, first: str, second: str) -> str:
    """``"correlation of intercept and x by g"``."""
    def word(column: str) -> str:
        return "intercept" if column == INTERCEPT else column

    return f"correlation of {word(first)} and {word(second)} by {group}"
