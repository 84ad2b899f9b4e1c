"""What a diagnosis returns: findings with remedies, and the tables behind them.

A :class:`Finding` is one problem (or one noteworthy fact) stated as data: a stable
``code``, a ``severity``, the ``parameters`` it concerns (named as the user wrote
them: ``group: (Intercept)``, ``group: x``, ``group: corr((Intercept), x)``,
``residual``), the numbers behind it (``evidence``), a plain-language
``explanation`` and ranked :class:`Remedy` entries. A :class:`Diagnosis` gathers
the findings of every check with a one-sentence verdict, the variance-component
table with asymptotic standard errors and the data-support table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..report.diagnosis_text import diagnosis_text
from ..report.payload import diagnosis_payload
from .tables import FactorSupport, InformationSummary, OptimizerRun, VarianceComponent, frozen_mapping

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ACTIONS", "SEVERITIES", "Diagnosis", "Finding", "Remedy", "Severity", "severity_rank"]

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
#: ``drop_fixed`` remove aliased fixed-effect columns; ``rescale`` rescale predictors.
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
)


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error."""
    return SEVERITIES.index(severity)


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


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnosed problem or fact.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"singular_fit"``.
    severity : {"info", "warning", "error"}
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


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why a mixed model is (or is not) trustworthy, and what to do.

    Attributes
    ----------
    formula : str
    reml : bool
    nobs : int
    verdict : str
        One or two sentences, the worst problem first.
    status : {"ok", "caution", "over_parameterised", "not_converged", "not_identified", "fit_failed"}
    findings : tuple of Finding
        Worst first.
    variance_components : tuple of VarianceComponent
    support : tuple of FactorSupport
    information : InformationSummary or None
    runs : tuple of OptimizerRun
        The fit and its refits by other optimisers and from other starts.
    objective_spread : float or None
        Largest minus smallest criterion over the runs.
    estimate_spread : Mapping of str to float
        Largest minus smallest value of each estimate (SDs, correlations, σ, β) over the
        runs that reach the best criterion (within 1e-3).
    effective_df : float or None
        Trace of the hat matrix, random effects included.
    residual_df : float or None
        ``nobs - effective_df``.
    seconds : float
        Wall time of the diagnosis.
    """

    formula: str
    reml: bool
    nobs: int
    verdict: str
    status: str
    findings: tuple[Finding, ...]
    variance_components: tuple[VarianceComponent, ...]
    support: tuple[FactorSupport, ...]
    information: InformationSummary | None
    runs: tuple[OptimizerRun, ...]
    objective_spread: float | None
    estimate_spread: Mapping[str, float]
    effective_df: float | None
    residual_df: float | None
    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "estimate_spread", frozen_mapping(self.estimate_spread))

    @property
    def severity(self) -> str | None:
        """The worst severity among the findings (None when there are none)."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=severity_rank)

    def at_least(self, severity: str) -> tuple[Finding, ...]:
        """Findings of ``severity`` or worse."""
        rank = severity_rank(severity)
        return tuple(f for f in self.findings if severity_rank(f.severity) >= rank)

    def codes(self) -> tuple[str, ...]:
        """The finding codes, worst first."""
        return tuple(f.code for f in self.findings)

    def finding(self, code: str) -> Finding | None:
        """The first finding with this code, if any."""
        return next((f for f in self.findings if f.code == code), None)

    def summary(self) -> str:
        """Human-readable report: the verdict, findings, variance components, data support."""
        return diagnosis_text(self)

    def to_dict(self) -> dict[str, Any]:
        """Exactly what ``lmmdx diagnose --json`` prints."""
        return diagnosis_payload(self)

    def __repr__(self) -> str:
        return f"<Diagnosis {self.formula!r}: {self.status}, {len(self.findings)} findings>"
