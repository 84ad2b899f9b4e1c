"""The remedy's results: one :class:`Candidate` per strategy, the sensitivity verdict, the report."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..report.remedy import remedy_payload, remedy_text
from .stepwise import TermTest
from .structure import same_model

if TYPE_CHECKING:
    from ..diagnose import Diagnosis
    from ..finding import Remedy
    from ..report.figures import RemedyPlots
    from ..result import Fit
    from .fixed import OlsAlternative
    from .glmm import GlmAlternative, PenalizedGlmm
    from .penalised import PenalizedFit

__all__ = [
    "METHODS",
    "STRATEGIES",
    "USABLE_STATUSES",
    "Candidate",
    "EffectEstimate",
    "EffectSensitivity",
    "RemedyReport",
    "Sensitivity",
]

#: Diagnosis statuses of a mixed model that may be recommended (lmmdx.diagnose.verdict).
USABLE_STATUSES = ("ok", "caution")
#: Diagnosis remedies (lmmdx.finding.ACTIONS) carried out by one candidate whatever their formula ...
_BY_ACTION = {"penalised_fit": "penalized", "fixed_factor": "fixed_effects"}
#: ... and those carried out by the candidate with the same model as their formula (this one if it is).
_BY_FORMULA: dict[str, str | None] = {
    "uncorrelated": "zero_correlation",
    "drop_slope": None,
    "intercept_only": "intercept_only",
    "drop_term": None,
}
#: How a candidate was fitted.
METHODS = ("reml", "ml", "penalized", "fixed_effects", "cluster_robust")
#: The strategies, in the order of the report (``aic_selected`` replaces ``lrt_selected``
#: when the elimination is by AIC).
STRATEGIES = (
    "maximal",
    "zero_correlation",
    "pca_reduced",
    "maximal_feasible",
    "lrt_selected",
    "aic_selected",
    "intercept_only",
    "penalized",
    "fixed_effects",
    "cluster_robust",
)


@dataclass(frozen=True, slots=True)
class EffectEstimate:
    """One fixed effect of interest under one candidate (NaN when not estimable there).

    Attributes
    ----------
    term : str
    estimate, std_error, df : float
    ci_lower, ci_upper : float
        95% confidence interval, ``estimate ± t(0.975, df) · std_error``.
    p_value : float
        Two-sided t test of ``estimate = 0``.
    """

    term: str
    estimate: float
    std_error: float
    df: float
    ci_lower: float
    ci_upper: float
    p_value: float

    @property
    def estimable(self) -> bool:
        """Whether the candidate estimates this effect."""
        return math.isfinite(self.estimate) and math.isfinite(self.std_error)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One alternative model, fitted.

    Attributes
    ----------
    name : str
        The strategy: ``maximal``, ``zero_correlation``, ``pca_reduced``,
        ``maximal_feasible``, ``lrt_selected`` (or ``aic_selected``),
        ``intercept_only``, ``penalized``, ``fixed_effects``, ``cluster_robust``.
    formula : str
    method : str
        One of :data:`METHODS`.
    converged, singular : bool
    n_cov_params : int
        Variance-covariance parameters, the residual variance included (0 for the
        cluster-robust fit, which models no covariance).
    loglik, aic, bic : float
        (Restricted) log-likelihood and criteria; NaN for the cluster-robust fit. Only
        candidates with the same fixed part and method are comparable.
    verdict : str
        The diagnosis's status for mixed models (``ok``, ``caution``, ``over_parameterised``,
        ...); for the other methods, whether the fit is sound.
    reason : str
        Why the candidate was proposed, with the tests behind it.
    effects : tuple of EffectEstimate
    tests : tuple of TermTest
        The test that kept or dropped each random effect (stepwise strategies).
    same_as : str or None
        An earlier candidate that is the same model.
    fit : Fit, PenalizedFit, OlsAlternative or None
        The underlying fit (None when the candidate could not be fitted).
    diagnosis : Diagnosis or None
        The diagnosis of a mixed-model candidate's fit (its ``status`` is the verdict).
    """

    name: str
    formula: str
    method: str
    converged: bool
    singular: bool
    n_cov_params: int
    loglik: float
    aic: float
    bic: float
    verdict: str
    reason: str
    effects: tuple[EffectEstimate, ...]
    tests: tuple[TermTest, ...] = ()
    same_as: str | None = None
    fit: Fit | PenalizedFit | OlsAlternative | PenalizedGlmm | GlmAlternative | None = None
    diagnosis: Diagnosis | None = None

    @property
    def usable(self) -> bool:
        """Fitted, converged, not singular, and (for mixed models) diagnosed ``ok`` or ``caution``."""
        if self.fit is None or not self.converged or self.singular:
            return False
        return self.diagnosis is None or self.diagnosis.status in USABLE_STATUSES

    def effect(self, term: str) -> EffectEstimate:
        """The estimate of ``term``."""
        for effect in self.effects:
            if effect.term == term:
                return effect
        raise KeyError(term)


@dataclass(frozen=True, slots=True)
class EffectSensitivity:
    """How one effect moves across the usable candidates.

    Attributes
    ----------
    term : str
    sign_change : bool
        Some candidates estimate it positive and others negative.
    crosses : bool
        Some candidates have p < 0.05 and others p ≥ 0.05.
    p_min, p_max : float
    p_min_candidate, p_max_candidate : str
    compared : int
        Usable candidates (distinct models) that estimate it.
    """

    term: str
    sign_change: bool
    crosses: bool
    p_min: float
    p_max: float
    p_min_candidate: str
    p_max_candidate: str
    compared: int


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """Whether the conclusion depends on the choice of model.

    Attributes
    ----------
    verdict : str
        ``"robust"``, ``"sensitive"`` or ``"undetermined"`` (fewer than two usable candidates).
    reasons : tuple of str
    effects : tuple of EffectSensitivity
    """

    verdict: str
    reasons: tuple[str, ...]
    effects: tuple[EffectSensitivity, ...]


@dataclass(frozen=True, slots=True)
class RemedyReport:
    """Alternatives to a model, fitted and compared side by side.

    Attributes
    ----------
    formula : str
        The user's model.
    reml : bool
    effects : tuple of str
        The fixed effects of interest.
    candidates : tuple of Candidate
    selected : str
        Name of the recommended candidate.
    recommendation : tuple of str
        The reasons for the recommendation.
    sensitivity : Sensitivity
    notes : tuple of str
        Anything else worth knowing (which candidates carry out the diagnosis's remedies, how
        thorough the run was, the penalised optimisers' agreement).
    """

    formula: str
    reml: bool
    effects: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    selected: str
    recommendation: tuple[str, ...]
    sensitivity: Sensitivity
    notes: tuple[str, ...] = ()

    def candidate(self, name: str) -> Candidate:
        """The candidate called ``name``."""
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def selected_candidate(self) -> Candidate:
        """The recommended candidate."""
        return self.candidate(self.selected)

    def find(self, formula: str, method: str | None = None) -> Candidate | None:
        """The first candidate fitting the model ``formula`` (however it is spelled).

        The fixed-effects alternative is never matched by formula: its sum-to-zero
        coding makes it a different parameterisation of R's ``y ~ x * g``.
        """
        for candidate in self.candidates:
            if candidate.fit is None or candidate.method == "fixed_effects":
                continue
            if method is not None and candidate.method != method:
                continue
            if same_model(candidate.formula, formula):
                return candidate
        return None

    def for_remedy(self, remedy: Remedy) -> Candidate | None:
        """The candidate that carries out one of the diagnosis's remedies (None for actions that are
        not a refit, such as collecting more levels)."""
        if remedy.action in _BY_ACTION:
            return self.candidate(_BY_ACTION[remedy.action])
        if remedy.formula is None or remedy.action not in _BY_FORMULA:
            return None
        preferred = _BY_FORMULA[remedy.action]
        if preferred is not None:
            candidate = self.candidate(preferred) if preferred in self.names else None
            if (
                candidate is not None
                and candidate.fit is not None
                and same_model(candidate.formula, remedy.formula)
            ):
                return candidate
        return self.find(remedy.formula)

    @property
    def names(self) -> tuple[str, ...]:
        """The candidates' names, in order."""
        return tuple(c.name for c in self.candidates)

    def summary(self) -> str:
        """The side-by-side table, the sensitivity verdict and the recommendation."""
        return remedy_text(self)

    def to_dict(self) -> dict[str, Any]:
        """Exactly what ``lmmdx remedy --json`` prints."""
        return remedy_payload(self)

    @property
    def plot(self) -> RemedyPlots:
        """The report's figures (matplotlib, needs ``lmmdx[report]``): ``report.plot.forest()``."""
        from ..report.figures import RemedyPlots

        return RemedyPlots(self)

    def _repr_html_(self) -> str:
        from ..report.html.notebook import remedy_cell

        return remedy_cell(self)

    def __repr__(self) -> str:
        return (
            f"<RemedyReport {self.formula!r}: {len(self.candidates)} candidates, selected {self.selected!r}, "
            f"{self.sensitivity.verdict}>"
        )
