"""The result of a fit: an immutable record of estimates, the optimiser's trace and warnings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from .boundary import TermBoundary
from .engine import OptTrace
from .engine.polish import Certificate
from .finding import FrozenMapping
from .glmm_model import GlmmModel
from .model import Model
from .report.payload import fit_payload
from .report.text import fit_summary

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .diagnose import Diagnosis
    from .inference.anova import AnovaTable
    from .inference.ddf import CoefTest, ContrastTest
    from .inference.intervals import Intervals
    from .inference.profile import ProfileTrace
    from .invariance import InvarianceCheck
    from .remedy import RemedyReport
    from .report.figures import FitPlots

__all__ = ["ConditionalModes", "Correlation", "Fit", "FixedEffect", "InformationCriteria", "VarComp"]


@dataclass(frozen=True, slots=True)
class VarComp:
    """A variance component: ``group`` and ``term`` (both None-free except the residual's term)."""

    group: str
    term: str | None
    variance: float
    sd: float


@dataclass(frozen=True, slots=True)
class Correlation:
    """Correlation of two random effects of the same term."""

    group: str
    term1: str
    term2: str
    corr: float


@dataclass(frozen=True, slots=True)
class FixedEffect:
    """One fixed-effect coefficient with its Wald statistics."""

    term: str
    estimate: float
    std_error: float
    t_value: float


@dataclass(frozen=True, slots=True)
class ConditionalModes:
    """Conditional modes (BLUPs) of one random-effects term.

    Attributes
    ----------
    group : str
    columns : tuple of str
    levels : tuple of str
    values : ndarray, shape (len(levels), len(columns))
    """

    group: str
    columns: tuple[str, ...]
    levels: tuple[str, ...]
    values: np.ndarray


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array


class InformationCriteria:
    """Log-likelihood, AIC and BIC from ``objective`` (−2 log L, or the REML criterion), ``npar`` and ``nobs``."""

    __slots__ = ()
    objective: float
    nobs: int

    @property
    def npar(self) -> int:
        """Number of estimated parameters (each result type counts its own)."""
        raise AttributeError(f"{type(self).__name__} does not count its parameters")

    @property
    def loglik(self) -> float:
        """Log-likelihood (restricted log-likelihood for REML fits), −objective/2."""
        return -0.5 * self.objective

    @property
    def aic(self) -> float:
        """Akaike's information criterion."""
        return self.objective + 2.0 * self.npar

    @property
    def bic(self) -> float:
        """Bayesian information criterion."""
        return self.objective + self.npar * float(np.log(self.nobs))


@dataclass(frozen=True, slots=True)
class Fit(InformationCriteria):
    """A fitted linear mixed model (estimates on the user's scale).

    Attributes
    ----------
    formula : str
        The formula as written.
    reml : bool
        REML (True) or maximum likelihood (False).
    nobs : int
        Observations used.
    ngroups : Mapping of str to int
        Levels of each grouping factor.
    objective : float
        REML criterion (REML fits) or deviance −2 log L (ML fits), as lme4 reports it.
    theta : ndarray
        lme4's θ (relative covariance factors, terms ordered by number of levels).
    theta_names : tuple of str
        lme4's names of θ (``"Subject.Days.(Intercept)"``).
    fixed_names : tuple of str
    beta : ndarray, shape (p,)
    vcov_beta : ndarray, shape (p, p)
    sigma : float
        Residual standard deviation.
    random_effects : tuple of VarComp
        Variance components, the residual last.
    correlations : tuple of Correlation
    conditional_modes : tuple of ConditionalModes
    fitted, residuals : ndarray, shape (n,)
        Properties computed on first use (a fit of a million rows does not pay for them unless
        asked), then kept; read-only.
    converged : bool
        The optimum is certified (:attr:`certificate` holds: Newton decrement below its
        tolerance, no held parameter or direction of negative curvature lowers the criterion).
    singular : bool
        Some random-effects covariance matrix is rank deficient (a θ diagonal
        element below :data:`lmmdx.boundary.BOUNDARY_TOLERANCE`, lme4's 1e-4, on the internal scale).
    warnings : tuple of str
    optimizer : OptTrace
        The optimiser's record (internal θ).
    dropped_fixed : tuple of str
        Aliased fixed-effects columns that were dropped.
    n_missing : int
        Rows dropped for missing values.
    model : Model
        The design and criterion, for diagnosis, inference and refits.
    theta_internal : ndarray
        θ on the internal (scaled) coordinates.
    """

    formula: str
    reml: bool
    nobs: int
    ngroups: Mapping[str, int]
    objective: float
    theta: np.ndarray
    theta_names: tuple[str, ...]
    fixed_names: tuple[str, ...]
    beta: np.ndarray
    vcov_beta: np.ndarray
    sigma: float
    random_effects: tuple[VarComp, ...]
    correlations: tuple[Correlation, ...]
    conditional_modes: tuple[ConditionalModes, ...]
    converged: bool
    singular: bool
    warnings: tuple[str, ...]
    optimizer: OptTrace
    dropped_fixed: tuple[str, ...]
    n_missing: int
    model: Model
    theta_internal: np.ndarray
    _derived: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("theta", "beta", "vcov_beta", "theta_internal"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "ngroups", FrozenMapping(self.ngroups))

    def _kept(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A derived array, computed on first use and kept (read-only)."""
        value = self._derived.get(name)
        if value is None:
            value = self._derived[name] = _frozen(compute())
        return value

    @property
    def fitted(self) -> np.ndarray:
        """Fitted values ``Xβ̂ + Zb̂`` (plus the offset), shape (n,), in the design's row order."""
        return self._kept("fitted", self._fitted_values)

    @property
    def residuals(self) -> np.ndarray:
        """The response minus :attr:`fitted`, shape (n,)."""
        return self._kept("residuals", lambda: self.model.design.response - self.fitted)

    def _fitted_values(self) -> np.ndarray:
        return self._linear_predictor()

    def _linear_predictor(self) -> np.ndarray:
        """``Xβ̂ + Zb̂`` plus the offset, on the user's scale."""
        design = self.model.design
        eta = design.X @ self.beta
        if design.offset is not None:
            eta = eta + design.offset
        for block, modes in zip(design.blocks, self.conditional_modes, strict=True):
            eta = eta + np.einsum("ij,ij->i", block.values, modes.values[block.factor.codes])
        return eta

    # -- derived quantities -------------------------------------------------------------
    @property
    def npar(self) -> int:
        """Number of estimated parameters: β, θ and σ."""
        return int(self.beta.size + self.theta.size + 1)

    @property
    def deviance(self) -> float | None:
        """−2 log L for ML fits (None for REML fits, whose criterion is :attr:`objective`)."""
        return None if self.reml else self.objective

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom as lme4 reports them: n − npar."""
        return self.nobs - self.npar

    @property
    def certificate(self) -> Certificate | None:
        """The certificate of the optimum (see :mod:`lmmdx.engine.polish`); None for fits made otherwise."""
        return self.optimizer.certificate

    @property
    def boundary(self) -> tuple[TermBoundary, ...]:
        """Per random-effects term (engine order): whether it is singular, which variances are
        zero and whether its correlations are at ±1 (see :mod:`lmmdx.boundary`)."""
        return self.model.boundary(self.theta_internal)

    @property
    def std_errors(self) -> np.ndarray:
        """Standard errors of β̂."""
        return np.sqrt(np.diag(self.vcov_beta))

    @property
    def t_values(self) -> np.ndarray:
        """Wald t values of β̂."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.beta / self.std_errors

    @property
    def fixed_effects(self) -> tuple[FixedEffect, ...]:
        """β̂ with standard errors and t values."""
        return tuple(
            FixedEffect(name, float(b), float(se), float(t))
            for name, b, se, t in zip(self.fixed_names, self.beta, self.std_errors, self.t_values, strict=True)
        )

    def coef(self) -> pd.Series:
        """β̂ as a Series indexed by term."""
        return pd.Series(self.beta, index=list(self.fixed_names), name="estimate")

    def ranef(self) -> dict[str, pd.DataFrame]:
        """Conditional modes of the random effects, one frame per grouping factor."""
        out: dict[str, pd.DataFrame] = {}
        for modes in self.conditional_modes:
            frame = pd.DataFrame(modes.values, index=list(modes.levels), columns=list(modes.columns))
            out[modes.group] = frame if modes.group not in out else out[modes.group].join(frame)
        return out

    def conditional_variances(self) -> tuple[np.ndarray, ...]:
        """Covariance of each level's random effects given the data (lme4's ``condVar``).

        One array of shape (levels, k, k) per term, aligned with :attr:`conditional_modes`;
        see :func:`lmmdx.inference.condvar.conditional_variances`.
        """
        from .inference.condvar import conditional_variances

        return conditional_variances(self)

    def check_invariance(self, seed: int = 0) -> InvarianceCheck:
        """Refit this model written differently (rows permuted, terms reordered, covariates rescaled...).

        Returns an :class:`~lmmdx.invariance.InvarianceCheck`; its ``finding`` is None
        when the criterion and every estimate mapped back agree to 1e-7 relative.
        """
        from .invariance import check_invariance

        return check_invariance(self, seed=seed)

    # -- inference (delegated to lmmdx.inference, imported on use) ------------------------
    def coef_tests(self, ddf: str = "satterthwaite") -> tuple[CoefTest, ...]:
        """t tests of the coefficients with ``"satterthwaite"`` (lmerTest) or ``"kenward-roger"`` df."""
        from .inference.ddf import coefficient_tests

        return coefficient_tests(self, ddf)

    def contrast_test(
        self, contrast: np.ndarray, rhs: np.ndarray | float = 0.0, ddf: str = "satterthwaite"
    ) -> ContrastTest:
        """F test of ``L β = rhs`` for a contrast matrix ``L`` of shape (q, p) (lmerTest's ``contest``)."""
        from .inference.ddf import contrast_test

        return contrast_test(self, contrast, rhs, ddf)

    def anova(self, type: int = 3, ddf: str = "satterthwaite") -> AnovaTable:
        """Type III (default) or type I ANOVA table of the fixed-effect terms (lmerTest's ``anova``)."""
        from .inference.anova import anova

        return anova(self, type, ddf)

    def confint(self, method: str = "wald", level: float = 0.95, **options: Any) -> Intervals:
        """Confidence intervals for every parameter: ``"wald"``, ``"profile"`` or ``"bootstrap"``.

        ``options``: ``ddf`` (Wald; None for normal quantiles as lme4), ``nsim``, ``seed``,
        ``workers``, ``progress`` (bootstrap). See :func:`lmmdx.inference.intervals.confint`.
        """
        from .inference.intervals import confint

        return confint(self, method, level, **options)

    def profile(self, level: float = 0.95, which: str | Sequence[str] | None = None) -> tuple[ProfileTrace, ...]:
        """Profiles ζ of the ML deviance (lme4's ``profile``), each far enough for ``level``.

        ``which``: parameter names as :meth:`confint` names them, ``"theta_"`` (the SDs,
        correlations and σ) or ``"beta_"`` (the fixed effects); all by default.
        """
        from .inference.profile import profile

        return profile(self, level, which if which is None or isinstance(which, str) else tuple(which))

    def simulate(self, nsim: int = 1, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Responses simulated from the fitted model, shape (nsim, n), in the design's row order."""
        from .simulate import simulate

        return simulate(self, nsim, seed)

    def refit(self, y: np.ndarray) -> Fit:
        """The same model fitted to another response (in the design's row order), from this θ."""
        from .simulate import refit

        return refit(self, y)

    # -- views ----------------------------------------------------------------------------
    def summary(self, ddf: str | None = "satterthwaite") -> str:
        """A summary that reads like lme4's, with lmerTest's df and p-values for the fixed effects
        (``ddf``: ``"satterthwaite"``, ``"kenward-roger"``, or None for none)."""
        from .inference.ddf import Tester

        tester = Tester(self, ddf)
        return fit_summary(self, tester.coefficients(), tester.check(), tester.method)

    def to_dict(self, ddf: str | None = "satterthwaite", intervals: Intervals | None = None) -> dict[str, Any]:
        """Exactly what ``lmmdx fit --json`` prints (``intervals`` adds the ``--ci`` list)."""
        from .inference.ddf import Tester

        tester = Tester(self, ddf)
        return fit_payload(self, tester.coefficients(), tester.check(), intervals)

    def diagnose(self, optimizers: tuple[str, ...] | None = None, parallel: bool | None = None) -> Diagnosis:
        """Why this fit is (or is not) trustworthy, and what to do: see :func:`lmmdx.diagnose.diagnose`.

        Parameters
        ----------
        optimizers : tuple of str, optional
            Optimisers of the multi-optimiser check (default: all registered; ``()`` skips it).
        parallel : bool, optional
            Run the refits in threads (default: decided from the cost of one evaluation).
        """
        from .diagnose import diagnose

        return diagnose(self, optimizers=optimizers, parallel=parallel)

    def remedies(self, effects: Sequence[str] | None = None, **options: Any) -> RemedyReport:
        """Alternatives to this model, fitted and compared side by side (see :func:`lmmdx.remedy.remedies`).

        Parameters
        ----------
        effects : sequence of str, optional
            The fixed effects of interest (default: all but the intercept).
        **options
            ``select`` ("lrt" or "aic"), ``alpha``, ``workers``, ``progress``, ``thorough``.
        """
        from .remedy import remedies

        return remedies(self, effects, **options)

    @property
    def plot(self) -> FitPlots:
        """The figures of this fit, each a matplotlib Figure (needs ``lmmdx[report]``):
        ``fit.plot.caterpillar()``, ``.residuals()``, ``.profile()``, ``.groups()``."""
        from .report.figures import FitPlots

        return FitPlots(self)

    def report(self, path: str | None = None, invariance: bool = False, profile: bool | None = None) -> str:
        """A self-contained HTML report: the fit, its diagnosis, the figures and the remedies.

        Parameters
        ----------
        path : str, optional
            Where to write it (the HTML is returned either way).
        invariance : bool
            Add the invariance self-test (:meth:`check_invariance`).
        profile : bool, optional
            Profile the variance parameters (default: up to
            :data:`lmmdx.report.html.document.PROFILE_MAX_NOBS` observations).
        """
        from .report.html.document import write_report

        return write_report(self, path, invariance=invariance, profile=profile)

    def _repr_html_(self) -> str:
        from .report.html.notebook import fit_cell

        return fit_cell(self)

    def __repr__(self) -> str:
        kind = "REML" if self.reml else "ML"
        return f"<Fit {self.formula!r} ({kind}) objective={self.objective:.4f} nobs={self.nobs}>"


@dataclass(frozen=True, slots=True)
class GlmmFit(Fit):
    """A fitted generalised linear mixed model (binomial or Poisson), as ``glmer`` fits it.

    Everything of :class:`Fit` with these meanings: ``objective`` is −2 log L by the Laplace
    approximation or adaptive quadrature (always including the saturated model's constant, so
    values for different ``nagq`` are comparable), ``reml`` is False, ``sigma`` is 1, ``fitted``
    holds the conditional means μ and ``residuals`` y − μ (y a proportion for binomial trials),
    ``random_effects`` has no residual row, and ``model`` is a :class:`~lmmdx.glmm_model.GlmmModel`.

    Attributes
    ----------
    family, link : str
    nagq : int
        Quadrature nodes (1 = Laplace).
    pearson_chi2 : float
        Σ wᵢ (yᵢ − μᵢ)² / V(μᵢ) at the conditional modes.
    dispersion : float
        Pearson χ² / (n − number of parameters); about 1 without overdispersion (Poisson).
    deviance_residuals : float
        Σ of the deviance residuals at the conditional modes (lme4's ``deviance()`` of a GLMM).
    vcov_method : str
        ``"hessian"`` (inverse Hessian of the criterion over θ and β, lme4's default) or ``"rx"``
        (the PIRLS factor of X given θ: singular fits).
    beta_internal : ndarray
        β on the internal (scaled) coordinates.
    derivatives : GlmmCertificate
        Derivatives of the criterion at the optimum (see :mod:`lmmdx.glmm_fitting`); the same
        facts in the linear model's terms are :attr:`certificate`.
    """

    family: str
    link: str
    nagq: int
    pearson_chi2: float
    dispersion: float
    deviance_residuals: float
    vcov_method: str
    beta_internal: np.ndarray
    derivatives: Any

    def _fitted_values(self) -> np.ndarray:
        """The conditional means μ = g⁻¹(η)."""
        return self.glmm.family.linkinv(Fit._linear_predictor(self))

    @property
    def glmm(self) -> GlmmModel:
        """The fit's :class:`~lmmdx.glmm_model.GlmmModel` (``model``, typed)."""
        return cast(GlmmModel, self.model)

    @property
    def npar(self) -> int:
        """Number of estimated parameters: β and θ (no residual scale)."""
        return int(self.beta.size + self.theta.size)

    @property
    def deviance(self) -> float:
        """−2 log L (the criterion)."""
        return self.objective

    @property
    def z_values(self) -> np.ndarray:
        """Wald z values of β̂."""
        return self.t_values

    @property
    def p_values(self) -> np.ndarray:
        """Two-sided Wald z-test p-values of β̂."""
        from scipy.stats import norm

        return 2.0 * norm.sf(np.abs(self.z_values))

    def diagnose(self, optimizers: tuple[str, ...] | None = None, parallel: bool | None = None) -> Diagnosis:
        """Why this GLMM fit is (or is not) trustworthy: see :func:`lmmdx.diagnose.glmm.diagnose_glmm`."""
        from .diagnose.glmm import diagnose_glmm

        return diagnose_glmm(self, optimizers=optimizers)

    def remedies(self, effects: Sequence[str] | None = None, **options: Any) -> RemedyReport:
        """Alternatives to this GLMM (simplified structures, bglmer-penalised fit, GLMs), fitted and compared."""
        from .remedy import remedies

        return remedies(self, effects, **options)

    def simulate(self, nsim: int = 1, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Responses simulated from the fitted GLMM, shape (nsim, n): proportions (binomial) or counts."""
        from .simulate import simulate

        return simulate(self, nsim, seed)

    def refit(self, y: np.ndarray) -> Fit:
        """The same GLMM fitted to another response (design row order), stage 2 from this optimum."""
        from .simulate import GlmmRefitter

        return GlmmRefitter(self)(y)

    def confint(self, method: str = "wald", level: float = 0.95, **options: Any) -> Intervals:
        """Confidence intervals: ``"wald"`` (z intervals), ``"profile"`` (profile likelihood) or
        ``"bootstrap"`` (parametric, percentile; ``nsim``, ``seed``)."""
        from .inference.glmm import glmm_intervals

        return glmm_intervals(self, method, level, **options)

    def summary(self, ddf: str | None = None) -> str:
        """A summary that reads like lme4's ``summary(glmer(...))``."""
        from .report.glmm import glmm_summary

        return glmm_summary(self)

    def to_dict(self, ddf: str | None = None, intervals: Intervals | None = None) -> dict[str, Any]:
        """Exactly what ``lmmdx fit --family ... --json`` prints."""
        from .report.glmm import glmm_payload

        return glmm_payload(self, intervals)

    def __repr__(self) -> str:
        return (f"<GlmmFit {self.formula!r} ({self.family}/{self.link}, nAGQ={self.nagq}) "
                f"-2logLik={self.objective:.4f} nobs={self.nobs}>")
