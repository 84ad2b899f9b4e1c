"""Maximum penalised likelihood with blme's default covariance prior, optimised until the optimisers agree.

blme (Chung, Rabe-Hesketh, Dorie, Gelman & Liu 2013; blme 1.0-5) puts by default a
Wishart prior with ``df = q + 2.5`` and infinite scale on each random-effects
covariance (for a scalar term this is a gamma(2.5, 0) prior on the SD), on the
common scale of the residual. Its −2 log prior, added to the REML or ML criterion,
is then the "polynomial term" ``−2 (df − q − 1) Σ log λᵢᵢ = −3 Σ log λᵢᵢ`` over the
diagonal of every relative covariance factor Λ (blme's ``getPolynomialTerm``): it
grows without bound as any variance approaches zero, so the optimum has every
variance strictly positive and every correlation strictly inside (−1, 1).

blme's own optimiser stops far from this optimum on the seed example; here the
criterion is minimised by several optimisers from several starting points and the
best run is kept, with the spread of all runs reported (:attr:`PenalizedFit.agree`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..boundary import correlations
from ..engine import ThetaLayout, minimize
from ..errors import FitError
from ..fitting import assemble_fit
from ..model import Model
from ..result import Fit

__all__ = [
    "AGREEMENT_CRITERION",
    "AGREEMENT_ESTIMATES",
    "PENALIZED_OPTIMIZERS",
    "WISHART_EXTRA_DF",
    "PenalizedFit",
    "PenalizedRun",
    "blme_penalty",
    "fit_penalized",
]

#: blme's default Wishart prior: df = dimension + 2.5, scale = Inf, common.scale = TRUE.
WISHART_EXTRA_DF = 2.5
#: −2 log prior = −2 (df − q − 1) Σ log λᵢᵢ = −_WEIGHT Σ log λᵢᵢ.
_WEIGHT = 2.0 * (WISHART_EXTRA_DF - 1.0)
#: Optimisers run on the penalised criterion; the best run is kept.
PENALIZED_OPTIMIZERS = ("bobyqa", "nelder_mead", "sbplx")
#: Runs agree when their criteria differ by at most this (criterion units) ...
AGREEMENT_CRITERION = 1e-6
#: ... and their estimates by at most this, relative (SDs, σ), absolute (correlations)
#: or relative to max(|β|, SE(β)) (fixed effects).
AGREEMENT_ESTIMATES = 1e-3
#: Diagonal elements of a starting point are lifted to at least this (the penalty is
#: infinite on the boundary).
_MIN_START = 0.05
#: Largest log-diagonal the optimisers may propose (θ up to e^30).
_MAX_LOG = 30.0


def blme_penalty(layout: ThetaLayout) -> Callable[[np.ndarray], float]:
    """blme's default −2 log prior as a function of θ (``inf`` on the boundary).

    On the internal scale it differs from blme's (user-scale) value by a constant,
    so the optimum is the same; :func:`fit_penalized` reports the user-scale value.
    """
    diagonal = layout.diagonal_mask()

    def penalty(theta: np.ndarray) -> float:
        d = np.asarray(theta)[diagonal]
        if np.any(d <= 0.0):
            return np.inf
        return -_WEIGHT * float(np.sum(np.log(d)))

    return penalty


@dataclass(frozen=True, slots=True)
class PenalizedRun:
    """One minimisation of the penalised criterion.

    Attributes
    ----------
    optimizer : str
    start : str
        Which starting point (``"lme4 start"``, ``"near the boundary"``, ...).
    theta : ndarray
        Internal θ where it stopped.
    criterion : float
        Penalised criterion there (user scale, as blme reports it).
    nevals : int
    converged : bool
    """

    optimizer: str
    start: str
    theta: np.ndarray
    criterion: float
    nevals: int
    converged: bool


@dataclass(frozen=True, slots=True)
class PenalizedFit:
    """The penalised fit.

    Attributes
    ----------
    fit : Fit
        Estimates at the penalised optimum; ``fit.objective`` (and so ``loglik``, AIC,
        BIC) is the unpenalised REML/ML criterion at those estimates.
    criterion : float
        The penalised criterion at the optimum (REML/ML criterion + penalty).
    penalty : float
        blme's −2 log prior at the optimum.
    runs : tuple of PenalizedRun
    criterion_spread : float
        Largest minus smallest criterion over the runs.
    estimate_spread : float
        Largest difference of an estimate between runs, on the scales of
        :data:`AGREEMENT_ESTIMATES`.
    """

    fit: Fit
    criterion: float
    penalty: float
    runs: tuple[PenalizedRun, ...]
    criterion_spread: float
    estimate_spread: float

    @property
    def agree(self) -> bool:
        """Every run reached the same optimum."""
        return self.criterion_spread <= AGREEMENT_CRITERION and self.estimate_spread <= AGREEMENT_ESTIMATES

    def describe(self) -> str:
        """One line on the optimisers' agreement."""
        optimizers = sorted({r.optimizer for r in self.runs})
        starts = sorted({r.start for r in self.runs})
        status = "agree" if self.agree else "DISAGREE"
        return (
            f"{len(self.runs)} runs ({', '.join(optimizers)}; starts: {', '.join(starts)}) {status}: "
            f"criterion spread {self.criterion_spread:.2g}, estimate spread {self.estimate_spread:.2g}"
        )


def _starts(layout: ThetaLayout, hint: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    base = layout.start()
    diagonal = layout.diagonal_mask()
    out = [("lme4 start", base), ("near the boundary", 0.1 * base), ("large variances", 5.0 * base)]
    if diagonal.sum() < diagonal.size:
        tilted = np.where(diagonal, base, 0.5)
        out.append(("correlated", tilted))
    if hint is not None:
        lifted = np.where(diagonal, np.maximum(hint, _MIN_START), hint)
        out.insert(1, ("unpenalised optimum", lifted))
    return out


def _estimates(model: Model, theta: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray]:
    """User-scale (SDs, σ, correlations, β) at θ, and the scale each is compared on."""
    sol = model.solve(theta, reml)
    sigma = model.scaling.y_scale * sol.sigma
    sds: list[float] = []
    corrs: list[float] = []
    for t in model.factors_to_user(theta):
        sd, corr = correlations(sigma**2 * (t @ t.T))
        sds.extend(sd)
        rows, cols = np.tril_indices(t.shape[0], -1)
        corrs.extend(np.nan_to_num(corr[rows, cols], nan=0.0))  # undefined (a zero SD): compared as 0
    beta = model.scaling.beta_to_user(sol.beta)
    se = np.sqrt(np.diag(model.scaling.vcov_to_user(sol.vcov_beta)))
    values = np.concatenate([sds, [sigma], corrs, beta])
    scales = np.concatenate([np.abs(sds), [sigma], np.ones(len(corrs)), np.maximum(np.abs(beta), se)])
    return values, np.maximum(scales, 1e-12)


def fit_penalized(
    model: Model,
    reml: bool = True,
    optimizers: Sequence[str] = PENALIZED_OPTIMIZERS,
    theta_hint: np.ndarray | None = None,
    thorough: bool = True,
    starts: Sequence[tuple[str, np.ndarray]] | None = None,
) -> PenalizedFit:
    """Maximise the penalised (restricted) likelihood with blme's default prior.

    Parameters
    ----------
    model : Model
    reml : bool
    optimizers : sequence of str
        Each runs from lme4's start; the first also runs from every other start.
    theta_hint : ndarray, optional
        Internal θ of the unpenalised fit, used (lifted off the boundary) as one more start.
    thorough : bool
        False runs only the first optimiser from lme4's start (for simulations).
    starts : sequence of (label, internal θ), optional
        Starting points instead of the default ones (lme4's start, near the boundary,
        large variances, correlated, and the lifted ``theta_hint``).

    Raises
    ------
    FitError
        When no run reaches a finite criterion.
    """
    layout = model.deviance.layout
    penalty = blme_penalty(layout)
    shift = model.shift[reml]
    # user-scale penalty = internal penalty − 3 Σ log|det Bᵢ| (Λ_user Λ_userᵀ = B Λ Λᵀ Bᵀ)
    offset = -_WEIGHT * sum(float(np.log(abs(np.linalg.det(b)))) for b in model.scaling.z_transforms)

    diagonal = layout.diagonal_mask()

    # The optimisers work on θ with its diagonal on the log scale: the penalised
    # criterion is then smooth and unbounded in every direction, instead of
    # infinite on the bound (which stalls quadratic-model methods such as BOBYQA).
    def to_theta(x: np.ndarray) -> np.ndarray:
        return np.where(diagonal, np.exp(np.minimum(x, _MAX_LOG)), x)

    def objective(x: np.ndarray) -> float:
        theta = to_theta(x)
        return model.deviance(theta, reml) + penalty(theta)

    starts = list(starts) if starts is not None else _starts(layout, theta_hint)
    plan = [(optimizers[0], label, x0) for label, x0 in starts] + [
        (name, starts[0][0], starts[0][1]) for name in optimizers[1:]
    ]
    if not thorough:
        plan = plan[:1]
    free = np.full(layout.ntheta, -np.inf)
    traces, runs = [], []
    for name, label, theta0 in plan:
        x0 = np.where(diagonal, np.log(np.maximum(theta0, _MIN_START)), theta0)
        trace = minimize(objective, x0, free, name)
        theta_end = to_theta(trace.x)
        traces.append(replace(trace, x0=theta0, x=theta_end))
        runs.append(
            PenalizedRun(
                name, label, theta_end, float(trace.fmin + shift + offset), trace.nevals, trace.converged
            )
        )
    best = int(np.argmin([r.criterion for r in runs]))
    if not np.isfinite(runs[best].criterion) or runs[best].criterion > 1e299:
        raise FitError(
            f"the penalised criterion of {model.design.formula.text!r} cannot be evaluated on these data"
        )
    theta = runs[best].theta
    estimates = [
        _estimates(model, r.theta, reml) for r in runs if np.isfinite(r.criterion) and r.criterion < 1e299
    ]
    values = np.array([v for v, _ in estimates])
    scale = _estimates(model, theta, reml)[1]
    estimate_spread = float(np.max((values.max(axis=0) - values.min(axis=0)) / scale)) if values.size else 0.0
    criteria = [r.criterion for r in runs]
    fit = assemble_fit(model, model.solve(theta, reml), traces[best], reml)
    return PenalizedFit(
        fit=fit,
        criterion=runs[best].criterion,
        penalty=float(penalty(theta) + offset),
        runs=tuple(runs),
        criterion_spread=float(max(criteria) - min(criteria)),
        estimate_spread=estimate_spread,
    )
