"""Draw responses from a fitted model, and refit the model to them.

``simulate(fit, nsim, rng)`` draws ``y* = X β̂ + Z b* + ε*`` with new random effects
``b* ~ N(0, σ̂² Λ̂Λ̂ᵀ)`` and residuals ``ε* ~ N(0, σ̂² I)`` (lme4's ``simulate`` with
``use.u = FALSE``). ``refit(fit, y)`` fits the same design to another response,
starting from the fit's θ (the design and its cross-product structure are reused).
"""

from __future__ import annotations

import numpy as np

from .arguments import check_count, check_seed
from .fitting import fit_model
from .memory import require
from .model import Model
from .result import Fit, GlmmFit

__all__ = ["GlmmRefitter", "GlmmSimulator", "Refitter", "Simulator", "refit", "simulate"]


class Simulator:
    """The pieces of a fit needed to draw responses, kept apart from the fit (picklable).

    Parameters
    ----------
    model : Model
    beta : ndarray, shape (p,)
    sigma : float
    factors : list of ndarray, each (kᵢ, kᵢ)
        User-scale relative covariance factors, engine order.
    """

    def __init__(self, model: Model, beta: np.ndarray, sigma: float, factors: list[np.ndarray]) -> None:
        design = model.design
        self.mean = design.X @ np.asarray(beta, dtype=np.float64)
        if design.offset is not None:
            self.mean = self.mean + design.offset
        self.sigma = float(sigma)
        self.blocks = [(b.values, b.factor.codes, b.nlevels, f) for b, f in zip(design.blocks, factors, strict=True)]

    @classmethod
    def from_fit(cls, fit: Fit) -> Simulator:
        """The simulator of a fitted model (a :class:`GlmmSimulator` for a GLMM)."""
        if isinstance(fit, GlmmFit):
            return GlmmSimulator(fit)
        return cls(fit.model, fit.beta, fit.sigma, fit.model.factors_to_user(fit.theta_internal))

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One simulated response, shape (n,)."""
        y = self.mean + self.sigma * rng.standard_normal(self.mean.shape[0])
        for values, codes, nlevels, factor in self.blocks:
            b = self.sigma * (rng.standard_normal((nlevels, factor.shape[0])) @ factor.T)
            y += np.einsum("ij,ij->i", values, b[codes])
        return y


def simulate(fit: Fit, nsim: int = 1, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Responses simulated from a fitted model.

    Parameters
    ----------
    fit : Fit
    nsim : int
    seed : int, Generator or None
        Seed of a :func:`numpy.random.default_rng` (or a Generator to draw from).

    Returns
    -------
    ndarray, shape (nsim, n)
        In the design's row order.

    Raises
    ------
    DataError
        ``nsim`` not a non-negative integer, or ``seed`` not a non-negative integer.
    ResourceError
        The simulated responses would not fit in the available memory.
    """
    nsim = check_count(nsim, "the number of simulations nsim")
    seed = check_seed(seed)
    require(8.0 * nsim * fit.nobs, f"{nsim:,} simulated responses of {fit.nobs:,} observations",
            "draw them in smaller batches (nsim) and process each batch before the next")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    sim = Simulator.from_fit(fit)
    out = np.empty((nsim, fit.nobs))
    for i in range(nsim):
        out[i] = sim.draw(rng)
    return out


class Refitter:
    """Refits a fit's design to other responses from the fit's θ (picklable, unlike a Fit).

    Parameters
    ----------
    model : Model
    start : ndarray
        Internal θ to start from.
    reml : bool
    optimizer : str
    """

    def __init__(self, model: Model, start: np.ndarray, reml: bool, optimizer: str) -> None:
        self.model = model
        self.start = np.asarray(start, dtype=np.float64)
        self.reml = reml
        self.optimizer = optimizer

    @classmethod
    def from_fit(cls, fit: Fit, reml: bool | None = None) -> Refitter:  # GLMMs: GlmmRefitter
        """Refits like ``fit`` (its criterion unless ``reml`` is given, its optimiser, from its θ)."""
        return cls(fit.model, fit.theta_internal, fit.reml if reml is None else reml, fit.optimizer.optimizer)

    def __call__(self, y: np.ndarray) -> Fit:
        """The model fitted to ``y`` (shape (n,), in the design's row order; the offset, if any, is
        subtracted as the design subtracts it from the data's response)."""
        offset = self.model.design.offset
        working = y if offset is None else np.asarray(y, dtype=np.float64) - offset
        return fit_model(self.model.with_response(working), self.reml, self.optimizer, start=self.start)


def refit(fit: Fit, y: np.ndarray, reml: bool | None = None) -> Fit:
    """The same model fitted to another response, starting from the fit's θ.

    Parameters
    ----------
    fit : Fit
    y : ndarray, shape (n,)
        In the design's row order.
    reml : bool, optional
        Defaults to the fit's criterion.
    """
    return Refitter.from_fit(fit, reml)(y)


class GlmmSimulator(Simulator):
    """Draws GLMM responses: new random effects ``b* ~ N(0, Λ̂Λ̂ᵀ)``, then ``y*`` from the family at
    ``μ* = g⁻¹(offset + Xβ̂ + Zb*)`` (binomial: successes out of the rows' trials, as proportions;
    Poisson: counts), as lme4's ``simulate`` of a glmerMod."""

    def __init__(self, fit: GlmmFit) -> None:
        model = fit.glmm
        super().__init__(fit.model, fit.beta, 1.0, model.factors_to_user(fit.theta_internal))
        self.mean = self.mean + model.offset
        self.family = model.family
        self.weights = model.weights

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One simulated response, shape (n,)."""
        eta = self.mean.copy()
        for values, codes, nlevels, factor in self.blocks:
            b = rng.standard_normal((nlevels, factor.shape[0])) @ factor.T
            eta += np.einsum("ij,ij->i", values, b[codes])
        mu = self.family.linkinv(eta)
        if self.family.name == "binomial":
            trials = np.rint(self.weights).astype(np.int64)
            counts = rng.binomial(trials, mu)
            return np.where(trials > 0, counts / np.maximum(trials, 1), 0.0)
        return rng.poisson(mu).astype(np.float64)


class GlmmRefitter:
    """Refits a GLMM's design to another response, stage 2 starting at the fit's optimum."""

    def __init__(self, fit: GlmmFit) -> None:
        self.model = fit.glmm
        self.start = np.concatenate([fit.theta_internal, fit.beta_internal])

    def __call__(self, y: np.ndarray) -> GlmmFit:
        """The fit to ``y`` (proportions for binomial trials, counts for Poisson; design row order)."""
        from dataclasses import replace

        from .glmm_fitting import fit_glmm_model
        from .glmm_model import GlmmModel

        model = self.model
        design = replace(model.design, y=np.asarray(y, dtype=np.float64))
        new = GlmmModel.from_design(design, model.family, model.nagq, model.laplace)
        return fit_glmm_model(new, start=self.start)
