"""The tables of a diagnosis: variance components, data support, information, optimiser runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..finding import frozen_mapping

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "FactorSupport",
    "InformationSummary",
    "OptimizerRun",
    "ParameterCombination",
    "SlopeSupport",
    "VarianceComponent",
]


@dataclass(frozen=True, slots=True)
class VarianceComponent:
    """One row of the variance-component table (variance/covariance scale).

    Attributes
    ----------
    parameter : str
        ``group: column``, ``group: corr(a, b)`` or ``residual``.
    kind : {"variance", "covariance", "residual"}
    estimate : float
        Variance or covariance.
    scale_value : float
        Standard deviation (variances) or correlation (covariances).
    std_error : float or None
        Asymptotic standard error from the observed information (None when undefined).
    z_value : float or None
        ``estimate / std_error``.
    status : {"ok", "boundary", "not_identified", "undefined"}
        Why a standard error is missing or not to be trusted.
    """

    parameter: str
    kind: str
    estimate: float
    scale_value: float
    std_error: float | None
    z_value: float | None
    status: str


@dataclass(frozen=True, slots=True)
class SlopeSupport:
    """What the data say about one random slope.

    Attributes
    ----------
    column : str
        The random slope's column.
    within_share : float
        Share of the column's variance (about its mean) that lies within levels.
    origin_ratio : float
        ``|mean| / sd`` of the column: how far its zero lies outside the data.
    corr_user : float or None
        Estimated intercept–slope correlation as parameterised (None without intercept or fit;
        NaN when an SD is zero, see :func:`lmmdx.boundary.correlations`).
    corr_centred : float or None
        The same correlation with the column centred at its mean.
    """

    column: str
    within_share: float
    origin_ratio: float
    corr_user: float | None
    corr_centred: float | None


@dataclass(frozen=True, slots=True)
class FactorSupport:
    """One row of the data-support table.

    Attributes
    ----------
    factor : str
    levels : int
    obs_min, obs_median, obs_max : float
        Observations per level.
    n_params : int
        Variance–covariance parameters asked of this factor (all its terms).
    terms : tuple of str
    saturated_share : float
        Share of the observations in levels whose random effects can fit them exactly
        (as many effects as observations): the residual is not identified there.
    rating : {"green", "yellow", "red"}
    reasons : tuple of str
        Why the rating is not green.
    slopes : tuple of SlopeSupport
    """

    factor: str
    levels: int
    obs_min: float
    obs_median: float
    obs_max: float
    n_params: int
    terms: tuple[str, ...]
    saturated_share: float
    rating: str
    reasons: tuple[str, ...]
    slopes: tuple[SlopeSupport, ...]


@dataclass(frozen=True, slots=True)
class ParameterCombination:
    """A near-null direction of the information matrix, as named parameter loadings.

    Attributes
    ----------
    eigenvalue : float
        Relative to the largest eigenvalue of the scaled information.
    loadings : Mapping of str to float
        Parameter → loading (on standardised parameters; unit length).
    """

    eigenvalue: float
    loadings: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "loadings", frozen_mapping(self.loadings))

    def plain(self) -> str:
        """Plain words: ``"separate a from b"`` for a trade-off of two, else the combination."""
        main = [(n, v) for n, v in sorted(self.loadings.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 0.3]
        if len(main) == 1:
            return f"determine {main[0][0]}"
        if len(main) == 2:
            return f"separate {main[0][0]} from {main[1][0]}"
        return f"determine the combination {self.describe()}"

    def describe(self) -> str:
        """``0.71 residual - 0.71 group: (Intercept)`` with the largest loadings first."""
        items = sorted(self.loadings.items(), key=lambda kv: -abs(kv[1]))
        parts = [f"{'-' if v < 0 else '+'} {abs(v):.2f} {name}" for name, v in items if abs(v) >= 0.1]
        text = " ".join(parts)
        return text.removeprefix("+ ")


@dataclass(frozen=True, slots=True)
class InformationSummary:
    """Eigen-analysis of the observed information of the variance–covariance parameters.

    Attributes
    ----------
    parameters : tuple of str
        The parameters the information covers (those not on the boundary).
    boundary : tuple of str
        Parameters on the boundary, held there.
    eigenvalues : tuple of float
        Of the scaled information ``D^-1/2 H D^-1/2`` (``D = diag H``), ascending.
    condition : float
        Largest over smallest eigenvalue (inf when not positive definite).
    near_null : tuple of ParameterCombination
    positive_definite : bool
    """

    parameters: tuple[str, ...]
    boundary: tuple[str, ...]
    eigenvalues: tuple[float, ...]
    condition: float
    near_null: tuple[ParameterCombination, ...]
    positive_definite: bool


@dataclass(frozen=True, slots=True)
class OptimizerRun:
    """One refit of the multi-optimiser check.

    Attributes
    ----------
    optimizer : str
    start : str
        ``"lme4"``, ``"small"``, ``"large"`` or ``"fit"`` (the fit under diagnosis).
    objective : float or None
        None when the refit failed.
    converged : bool
    nevals : int
    estimates : Mapping of str to float
        Standard deviations, correlations, σ and β on the user's scale.
    theta_internal : tuple of float
        The optimum found, on the internal scale.
    """

    optimizer: str
    start: str
    objective: float | None
    converged: bool
    nevals: int
    estimates: Mapping[str, float] = field(default_factory=dict)
    theta_internal: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "estimates", frozen_mapping(self.estimates))
        object.__setattr__(self, "theta_internal", tuple(float(v) for v in self.theta_internal))
