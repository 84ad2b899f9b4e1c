"""The bridge from a GLMM :class:`Design` to the engine: scaled columns, PIRLS and the criterion.

The criterion is −2 log L by the Laplace approximation (nAGQ = 1) or adaptive Gauss–Hermite
quadrature (nAGQ > 1, one scalar term), over lme4's θ and the fixed effects β. As in lme4 it
is minimised in two stages: over θ with β solved for by PIRLS together with the modes
(:meth:`Evaluator.stage1`), then over θ and β together (:meth:`Evaluator.__call__`).

Covariates are centred and scaled internally exactly as for linear models
(:mod:`lmmdx.engine.scaling`; the response is not scaled); every estimate is mapped back.
Unlike lme4's ``nAGQ > 1`` value, the criterion always includes the saturated model's
constant, so Laplace and quadrature values are comparable (they are for 0/1 responses in lme4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .boundary import TermBoundary, classify_term, standardised_covariance
from .design import Design
from .engine import TermData
from .engine.agq import agq_criterion
from .engine.family import Family, Observed
from .engine.pirls import PirlsFailure, PirlsResult, WeightedSystem, pirls, pirls_lme4
from .engine.scaling import Scaling, column_transform, relative_factor_to_user
from .engine.theta import ThetaLayout

__all__ = ["Evaluator", "GlmmModel"]


def _unstructured_with_intercept(columns: tuple[str, ...]) -> bool:
    return len(columns) > 1 and "(Intercept)" in columns


@dataclass(frozen=True, slots=True)
class GlmmModel:
    """A GLMM design ready for optimisation.

    Attributes
    ----------
    design : Design
    family : Family
    nagq : int
        Quadrature nodes (1 = Laplace).
    scaling : Scaling
        The internal transformation of X and of each term's columns (``y_scale`` is 1).
    system : WeightedSystem
        The pattern of the weighted cross-products, on the internal columns.
    y, weights, offset : ndarray, shape (n,)
    observed : Observed
        The response with its deviance constants.
    saturated : float
        ``−2 log p(y | μ = y)``: the criterion is this plus the deviance-residual form.
    laplace : str
        ``"exact"``: the Laplace approximation at the exact conditional modes; ``"lme4"``: lme4's
        approximation of it (:func:`~lmmdx.engine.pirls.pirls_lme4`), to reproduce glmer's numbers.
    """

    design: Design
    family: Family
    nagq: int
    scaling: Scaling
    system: WeightedSystem
    y: np.ndarray
    weights: np.ndarray
    offset: np.ndarray
    observed: Observed
    saturated: float
    laplace: str = "exact"

    @classmethod
    def from_design(cls, design: Design, family: Family, nagq: int = 1, laplace: str = "exact") -> GlmmModel:
        """Scale the columns and lay out the weighted system."""
        if laplace not in ("exact", "lme4"):
            raise ValueError(f"laplace must be 'exact' or 'lme4', not {laplace!r}")
        if nagq > 1 and (len(design.blocks) != 1 or design.blocks[0].k != 1):
            raise ValueError(
                "nAGQ > 1 is only available for a single scalar random-effects term such as (1 | g), "
                f"not for {' + '.join(b.term.text for b in design.blocks)}"
            )
        a = column_transform(design.X, allow_centring=True)
        terms, transforms = [], []
        for block in design.blocks:
            b = column_transform(block.values, _unstructured_with_intercept(block.columns))
            transforms.append(b)
            terms.append(TermData(block.factor.codes, block.values @ b, block.nlevels))
        scaling = Scaling(1.0, a, tuple(transforms))
        n = design.nobs
        weights = design.weights if design.weights is not None else np.ones(n)
        offset = design.offset if design.offset is not None else np.zeros(n)
        system = WeightedSystem(terms, design.X @ a)
        return cls(design, family, nagq, scaling, system, design.y, weights, offset,
                   family.observed(design.y, weights), family.saturated(design.y, weights), laplace)

    # -- parameters ---------------------------------------------------------------------------
    @property
    def layout(self) -> ThetaLayout:
        """Where each term's factor lives in θ."""
        return self.system.layout

    @property
    def ntheta(self) -> int:
        """Number of θ parameters."""
        return self.layout.ntheta

    @property
    def p(self) -> int:
        """Number of fixed effects."""
        return self.system.p

    def lower(self) -> np.ndarray:
        """Lower bounds of (θ, β): 0 for θ's diagonal, −∞ elsewhere."""
        return np.concatenate([self.layout.lower(), np.full(self.p, -np.inf)])

    def factors_to_user(self, theta: np.ndarray) -> list[np.ndarray]:
        """lme4's relative covariance factors (user scale) from internal θ, engine order."""
        return [relative_factor_to_user(t, b)
                for t, b in zip(self.layout.factors(theta), self.scaling.z_transforms, strict=True)]

    def theta_to_user(self, theta: np.ndarray) -> np.ndarray:
        """lme4's θ on the user scale from internal θ."""
        return self.layout.from_factors(self.factors_to_user(theta))

    def boundary(self, theta: np.ndarray) -> tuple[TermBoundary, ...]:
        """Where each term stands with respect to the boundary at internal θ (see :mod:`lmmdx.boundary`)."""
        out = []
        internal = self.layout.factors(theta)
        for index, (block, t_int, t_user) in enumerate(
            zip(self.design.blocks, internal, self.factors_to_user(theta), strict=True)
        ):
            spread = np.sqrt(np.mean(block.values**2, axis=0))
            out.append(classify_term(index, t_int, standardised_covariance(t_user, spread)))
        return tuple(out)

    # -- evaluation -----------------------------------------------------------------------------
    def glm_start(self) -> np.ndarray:
        """Internal β of the GLM without random effects (IRLS from R's starting means, step halving)."""
        family, y, wt, X, offset = self.family, self.y, self.weights, self.system.X, self.offset
        mu = family.mu_start(y, wt)
        eta = family.linkfun(mu)
        # a valid point to fall back on: the constant linear predictor at the mean start
        beta, *_ = np.linalg.lstsq(X, np.full(y.size, float(np.mean(eta - offset))), rcond=None)
        current = offset + X @ beta
        if not family.link.valid_eta(current).all():
            return beta
        dev = self.observed.deviance(family.linkinv(current))
        for _ in range(50):
            mu_eta = family.mu_eta(eta)
            w = wt * mu_eta**2 / family.variance(mu)
            z = eta - offset + (y - mu) / mu_eta
            sw = np.sqrt(w)
            new, *_ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
            for _ in range(30):
                new_eta = offset + X @ new
                new_dev = (self.observed.deviance(family.linkinv(new_eta))
                           if family.link.valid_eta(new_eta).all() else np.inf)
                if np.isfinite(new_dev) and new_dev <= dev + 1e-10 * max(1.0, abs(dev)):
                    break
                new = 0.5 * (new + beta)
            else:
                break
            change = float(np.max(np.abs(new_eta - current)))
            beta, eta, current, dev = new, new_eta, new_eta, new_dev
            mu = family.linkinv(eta)
            if change < 1e-8:
                break
        return beta

    def evaluator(self, lp0: np.ndarray | None = None) -> Evaluator:
        """A criterion with its own warm start (one per optimisation; not shared between threads).

        ``lp0`` is the linear predictor (offset excluded) left by stage 1, where lme4's approximation
        starts PIRLS (``laplace="lme4"`` only).
        """
        return Evaluator(self, lp0)

    def solve(self, theta: np.ndarray, beta: np.ndarray | None = None, u0: np.ndarray | None = None) -> PirlsResult:
        """The conditional modes at internal θ and β (or at θ with β solved for, when β is None)."""
        system = self.system
        state = system.at_theta(theta)
        joint = beta is None
        start_beta = self.glm_start() if beta is None else np.asarray(beta, dtype=np.float64)
        u = np.zeros(system.q) if u0 is None else u0
        return pirls(system, state, self.family, self.observed, self.offset, start_beta, u, joint)

    def criterion(self, result: PirlsResult, theta: np.ndarray) -> float:
        """−2 log L at a PIRLS result: Laplace, or quadrature when ``nagq > 1``."""
        if self.nagq <= 1:
            return result.laplace + self.saturated
        block = self.system
        zlam = block.V[:, 0] * float(theta[0])
        fixed = self.offset + block.X @ result.beta
        value = agq_criterion(self.family, self.y, self.weights, fixed, block.codes[0], zlam,
                              result.u, result.d1[:, 0, 0], self.nagq)
        return value + self.saturated


class Evaluator:
    """The two criteria of the optimisation, each evaluation starting PIRLS where the last ended."""

    def __init__(self, model: GlmmModel, lp0: np.ndarray | None = None) -> None:
        self.model = model
        self.lp0 = lp0
        self.u = np.zeros(model.system.q)
        self.beta = model.glm_start()
        self.last: PirlsResult | None = None
        self.evaluations = 0
        #: The modes at the lowest criterion seen by ``__call__`` (a valid start near the optimum).
        self.best_u: np.ndarray | None = None
        self.best_value = np.inf

    def stage1(self, theta: np.ndarray) -> float:
        """Laplace criterion at θ with β and u from one joint PIRLS (lme4's nAGQ = 0 stage)."""
        model = self.model
        self.evaluations += 1
        try:
            state = model.system.at_theta(theta)
            result = pirls(model.system, state, model.family, model.observed, model.offset,
                           self.beta, self.u, True)
        except (PirlsFailure, np.linalg.LinAlgError, FloatingPointError):
            return np.inf  # (the warm start stays where it was)
        self.u, self.beta, self.last = result.u, result.beta, result
        return result.laplace + model.saturated

    def __call__(self, x: np.ndarray) -> float:
        """The criterion at x = (internal θ, internal β)."""
        model = self.model
        self.evaluations += 1
        nt = model.ntheta
        theta, beta = x[:nt], x[nt:]
        try:
            state = model.system.at_theta(theta)
            if model.laplace == "lme4" and model.nagq == 1 and self.lp0 is not None:
                result = pirls_lme4(model.system, state, model.family, model.observed, model.offset, beta, self.lp0)
            else:
                result = pirls(model.system, state, model.family, model.observed, model.offset,
                               beta, self.u, False)
        except (PirlsFailure, np.linalg.LinAlgError, FloatingPointError):
            return np.inf
        self.u, self.last = result.u, result
        value = model.criterion(result, theta)
        if value < self.best_value:
            self.best_value, self.best_u = value, result.u
        return value
