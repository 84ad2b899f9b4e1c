"""A finding: one problem of a fit stated as a value, with ranked remedies.

A :class:`Finding` has a stable ``code``, a ``severity``, the ``parameters`` it
concerns, the numbers behind it (``evidence``), a plain-language ``explanation``
and ranked :class:`Remedy` entries. Checks return findings (the diagnosis, the
invariance self-test, batch fitting); warnings and printed text are only views
of them. This module sits low in the layers so that every producer shares it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ACTIONS",
    "SEVERITIES",
    "Finding",
    "FrozenMapping",
    "Remedy",
    "Severity",
    "coefficient_name",
    "correlation_name",
    "frozen_mapping",
    "sd_name",
    "severity_rank",
]

Severity = Literal["info", "warning", "error"]

#: Severities from mildest to worst.
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")

#: The remedy actions, a stable vocabulary for programs (the remedy step fits them):
#: ``uncorrelated`` refit with ``||``; ``drop_slope`` refit without a random slope;
#: ``intercept_only`` keep only the random intercept of the factor; ``drop_term``
#: remove the random term (an ordinary regression when none is left);
#: ``fixed_factor`` model the grouping factor as fixed effects; ``penalised_fit``
#: the same formula with weakly informative priors on the covariance;
#: ``more_levels`` collect more levels; ``centre_covariate`` centre a covariate;
#: ``drop_fixed`` remove aliased fixed-effect columns; ``rescale`` rescale predictors;
#: ``other_optimizer`` confirm the optimum with another optimiser; ``rewrite`` refit
#: the model written another, equivalent way; ``profile_intervals`` report profile
#: (or bootstrap) intervals instead of Wald ones. For GLMMs: ``observation_effect`` add a random
#: effect with one level per observation (overdispersion); ``negative_binomial`` fit a
#: negative-binomial GLMM instead of a Poisson one (a suggestion: lmmdx does not fit it).
ACTIONS: tuple[str, ...] = (
    "uncorrelated",
    "drop_slope",
    "intercept_only",
    "drop_term",
    "fixed_factor",
    "penalised_fit",
    "more_levels",
    "centre_covariate",
    "drop_fixed",
    "rescale",
    "other_optimizer",
    "rewrite",
    "profile_intervals",
    "observation_effect",
    "negative_binomial",
)


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error."""
    return SEVERITIES.index(severity)


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping that pickles (``MappingProxyType`` does not), for results sent between processes."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return (FrozenMapping, (self._data,))


def frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of a mapping."""
    return FrozenMapping(value)


@dataclass(frozen=True, slots=True)
class Remedy:
    """One concrete thing to do instead.

    Attributes
    ----------
    action : str
        One of :data:`ACTIONS`.
    formula : str or None
        The model to fit instead, in lme4 syntax (None when the action is not a
        refit, e.g. collecting more levels).
    reason : str
        Why this helps, in one sentence.
    term : str or None
        The random-effects term or fixed-effect column the action concerns.
    """

    action: str
    formula: str | None
    reason: str
    term: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown remedy action {self.action!r}")

    def to_dict(self) -> dict[str, Any]:
        """The remedy as plain values (the ``--json`` form)."""
        return {"action": self.action, "formula": self.formula, "reason": self.reason, "term": self.term}


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnosed problem or fact.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"singular_fit"``, ``"invariance"``.
    severity : {"info", "warning", "error"}
        ``info``: worth knowing, the numbers stand; ``warning``: some numbers are
        fragile; ``error``: some reported numbers are wrong or undefined.
    parameters : tuple of str
        The variance–covariance parameters (or fixed-effect columns, or factors) concerned.
    evidence : Mapping of str to value
        The numbers behind the finding (JSON-safe values).
    explanation : str
        Plain-language explanation.
    remedies : tuple of Remedy
        Ranked, best first.
    title : str
        One-line headline.
    check : str
        Name of the check that produced it.
    """

    code: str
    severity: Severity
    parameters: tuple[str, ...]
    evidence: Mapping[str, Any]
    explanation: str
    remedies: tuple[Remedy, ...] = ()
    title: str = ""
    check: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        object.__setattr__(self, "evidence", frozen_mapping(self.evidence))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "remedies", tuple(self.remedies))

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain values (the ``--json`` form)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "check": self.check,
            "title": self.title,
            "parameters": list(self.parameters),
            "evidence": dict(self.evidence),
            "explanation": self.explanation,
            "remedies": [r.to_dict() for r in self.remedies],
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
