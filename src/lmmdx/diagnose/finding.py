"""What a diagnosis returns: findings with remedies, and the tables behind them.

A :class:`~lmmdx.finding.Finding` (shared with the other producers of findings and
re-exported here) is one problem (or one noteworthy fact) stated as data: a stable
``code``, a ``severity``, the ``parameters`` it concerns (named as the user wrote
them: ``group: (Intercept)``, ``group: x``, ``group: corr((Intercept), x)``,
``residual``), the numbers behind it (``evidence``), a plain-language
``explanation`` and ranked :class:`Remedy` entries. A :class:`Diagnosis` gathers
the findings of every check with a one-sentence verdict, the variance-component
table with asymptotic standard errors and the data-support table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..finding import ACTIONS, SEVERITIES, Finding, Remedy, Severity, frozen_mapping, severity_rank
from ..report.diagnosis_text import diagnosis_text
from ..report.payload import diagnosis_payload
from .tables import FactorSupport, InformationSummary, OptimizerRun, VarianceComponent

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..report.figures import DiagnosisPlots
    from .dimensions import TermPCA

__all__ = ["ACTIONS", "SEVERITIES", "Diagnosis", "Finding", "Remedy", "Severity", "severity_rank"]

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
    pca : tuple of TermPCA
        Principal components of each term's covariance (lme4's ``rePCA``), engine order.
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
    pca: tuple[TermPCA, ...] = ()

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

    def with_findings(self, extra: Sequence[Finding]) -> Diagnosis:
        """A copy with more findings (e.g. the invariance self-test's), worst first.

        When one of them is worse than every finding of the diagnosis, its explanation
        opens the verdict.
        """
        if not extra:
            return self
        merged = tuple(sorted((*self.findings, *extra), key=lambda f: -severity_rank(f.severity)))
        own = -1 if self.severity is None else severity_rank(self.severity)
        worse = [f for f in extra if severity_rank(f.severity) > own]
        text = f"{worse[0].explanation} {self.verdict}" if worse else self.verdict
        return replace(self, findings=merged, verdict=text)

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

    @property
    def plot(self) -> DiagnosisPlots:
        """The diagnosis's figures (matplotlib, needs ``lmmdx[report]``): ``diagnosis.plot()`` draws
        them all; ``.pca()`` the rePCA variance shares, ``.optimizers()`` the optimiser-agreement runs."""
        from ..report.figures import DiagnosisPlots
        from .agreement import OBJECTIVE_AGREE

        return DiagnosisPlots(self, OBJECTIVE_AGREE)

    def _repr_html_(self) -> str:
        from ..report.html.notebook import diagnosis_cell

        return diagnosis_cell(self)

    def __repr__(self) -> str:
        return f"<Diagnosis {self.formula!r}: {self.status}, {len(self.findings)} findings>"
