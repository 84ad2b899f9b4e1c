"""GLMM-specific remedies: the penalised fit (blme's ``bglmer`` priors), the grouping factors as fixed
effects in a GLM, and a GLM with CR2 cluster-robust standard errors.

* penalised: −2 log L (Laplace) plus blme's default covariance prior (a Wishart with df = q + 2.5 on
  each term's covariance, gamma(2.5) on a single SD; ``bglmer``'s ``cov.prior``), and, when the
  diagnosis finds separation, blme's weak normal prior on the fixed effects (sd 10 for the
  intercept, 2.5 for the others: ``fixef.prior = normal``) so that every estimate is finite;
  minimised by BOBYQA and Nelder–Mead from the fit's optimum (pulled off the boundary), polished
  by Newton steps; the standard errors come from the Hessian of the penalised criterion.
* fixed effects: the same linear predictor with each grouping factor (and its interactions with
  the random slopes) as sum-to-zero coded columns, fitted by iteratively reweighted least squares.
* cluster-robust: the GLM of the fixed part alone with the CR2 sandwich of Bell & McCaffrey
  (2002) by the first grouping factor (working weights in the hat matrix, as clubSandwich does
  for glm objects), and G − 1 degrees of freedom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..design import Design
from ..design.grouping import GroupingFactor
from ..engine import OptTrace, Tolerances, minimize
from ..engine.family import Family
from ..errors import FitError
from ..glmm_fitting import _polish, assemble_glmm
from ..glmm_model import Evaluator, GlmmModel
from ..result import GlmmFit
from .effects import effect_estimate
from .penalised import blme_penalty
from .result import EffectEstimate

__all__ = ["GlmAlternative", "PenalizedGlmm", "cluster_robust_glm", "fixed_effects_glm", "glm_effects",
           "glmm_effects", "penalized_glmm"]

#: blme's default ``normal`` fixed-effect prior: sd 10 for the intercept, 2.5 for the other effects.
FIXEF_SD = (10.0, 2.5)
_START = 0.05


class _Penalized(Evaluator):
    """The GLMM criterion plus the priors' −2 log density (internal θ; β mapped to the user's scale)."""

    def __init__(self, model: GlmmModel, fixef_prior: bool) -> None:
        super().__init__(model)
        self.cov_penalty = blme_penalty(model.layout)
        self.fixef_prior = fixef_prior
        names = model.design.fixed.names
        sd = np.array([FIXEF_SD[0] if n == "(Intercept)" else FIXEF_SD[1] for n in names])
        self.precision = 1.0 / sd**2

    def penalty(self, x: np.ndarray) -> float:
        model = self.model
        nt = model.ntheta
        value = self.cov_penalty(x[:nt])
        if self.fixef_prior:
            beta = model.scaling.beta_to_user(x[nt:])
            value += float(np.sum(self.precision * beta * beta))
        return value

    def __call__(self, x: np.ndarray) -> float:
        pen = self.penalty(x)
        if not np.isfinite(pen):
            return np.inf
        return super().__call__(x) + pen


@dataclass(frozen=True, slots=True)
class PenalizedGlmm:
    """The penalised GLMM: its fit (estimates at the penalised optimum), criterion and runs.

    Attributes
    ----------
    fit : GlmmFit
        Estimates at the penalised optimum; ``objective`` is −2 log L there (without the priors), the
        standard errors come from the Hessian of the penalised criterion.
    criterion : float
        −2 log L plus the priors' −2 log density (blme's value up to a constant).
    runs : tuple of (str, float, bool)
        Optimiser, penalised criterion, converged.
    fixef_prior : bool
        Whether the normal prior on the fixed effects was used (separation).
    """

    fit: GlmmFit
    criterion: float
    runs: tuple[tuple[str, float, bool], ...]
    fixef_prior: bool

    @property
    def agree(self) -> bool:
        """The optimisers reached the same penalised criterion (within 1e-4)."""
        values = [v for _, v, ok in self.runs if np.isfinite(v)]
        return len(values) > 0 and max(values) - min(values) < 1e-4

    def describe(self) -> str:
        """The runs in words."""
        return "; ".join(f"{name}: {value:.4f}" for name, value, _ in self.runs)


def penalized_glmm(fit: GlmmFit, fixef_prior: bool = False) -> PenalizedGlmm:
    """Maximum penalised likelihood with blme's ``bglmer`` default priors (see the module)."""
    model = fit.glmm
    nt = model.ntheta
    diagonal = model.layout.diagonal_mask()
    theta0 = np.where(diagonal, np.maximum(fit.theta_internal, _START), fit.theta_internal)
    x0 = np.concatenate([theta0, fit.beta_internal])
    if fixef_prior:  # from finite values: the unpenalised estimate may be where separation left it
        x0[nt:] = np.clip(x0[nt:], -10.0, 10.0)
    lower = np.concatenate([np.where(diagonal, 1e-8, -np.inf), np.full(model.p, -np.inf)])
    runs, best = [], None
    for name in ("bobyqa", "nelder_mead"):
        f = _Penalized(model, fixef_prior)
        f.u = fit.derivatives.modes.copy()
        trace = minimize(f, x0, lower, name, Tolerances(ftol_abs=1e-9, xtol_abs=1e-8, initial_step=0.05))
        runs.append((name, float(trace.fmin), bool(trace.converged)))
        if best is None or trace.fmin < best[1].fmin:
            best = (f, trace)
    assert best is not None
    f, trace = best
    if not np.isfinite(trace.fmin) or trace.fmin >= 1e299:
        raise FitError("the penalised criterion cannot be evaluated")
    if f.best_u is not None:
        f.u = f.best_u.copy()
    x, value, certificate, used = _polish(model, trace.x, f)
    unpenalized = value - f.penalty(x)
    trace = OptTrace(trace.optimizer, x0, x, unpenalized, trace.nevals + used, trace.status, trace.converged,
                     np.zeros((0, x.size + 1)), "penalized")
    penalized = assemble_glmm(model, x, trace, certificate)
    return PenalizedGlmm(penalized, value, tuple(runs), fixef_prior)


@dataclass(frozen=True, slots=True)
class GlmAlternative:
    """A GLM alternative (no random effects): estimates, covariance, df and the likelihood.

    Attributes
    ----------
    formula : str
    names : tuple of str
    beta : ndarray
    vcov : ndarray
        Model-based (fixed effects) or CR2 cluster-robust covariance.
    df : ndarray
        Degrees of freedom of each coefficient's test (inf: z tests; G − 1 for CR2).
    loglik, aic, bic : float
    cluster : str or None
        The clustering factor of a cluster-robust fit.
    nclusters : int
    dropped : tuple of str
        Columns not estimable (aliased, or infinite: separation by a level).
    converged : bool
    """

    formula: str
    names: tuple[str, ...]
    beta: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    loglik: float
    aic: float
    bic: float
    cluster: str | None
    nclusters: int
    dropped: tuple[str, ...]
    converged: bool


def _irls(X: np.ndarray, y: np.ndarray, wt: np.ndarray, offset: np.ndarray, family: Family,
          max_iter: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """A GLM by IRLS with step halving: β, the working weights and μ at convergence, converged."""
    observed = family.observed(y, wt)
    mu = family.mu_start(y, wt)
    eta = family.linkfun(mu)
    beta = np.zeros(X.shape[1])
    dev = np.inf
    converged = False
    w = np.ones_like(y)
    for _ in range(max_iter):
        mu_eta = family.mu_eta(eta)
        w = wt * mu_eta**2 / family.variance(mu)
        z = eta - offset + (y - mu) / mu_eta
        sw = np.sqrt(w)
        new, *_ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
        for _ in range(30):
            new_eta = offset + X @ new
            new_dev = observed.deviance(family.linkinv(new_eta)) if family.link.valid_eta(new_eta).all() else np.inf
            if np.isfinite(new_dev) and (not np.isfinite(dev) or new_dev <= dev + 1e-10 * abs(dev)):
                break
            new = 0.5 * (new + beta)
        change = abs(dev - new_dev) / (abs(new_dev) + 0.1) if np.isfinite(dev) else np.inf
        beta, eta, dev = new, new_eta, new_dev
        mu = family.linkinv(eta)
        if change < 1e-10:
            converged = True
            break
    mu_eta = family.mu_eta(eta)
    w = wt * mu_eta**2 / family.variance(mu)
    return beta, w, mu, converged


def _loglik(model: GlmmModel, mu: np.ndarray, npar: int, n: int) -> tuple[float, float, float]:
    ll = -0.5 * (model.observed.deviance(mu) + model.saturated)
    return ll, -2 * ll + 2 * npar, -2 * ll + np.log(n) * npar


def _sum_coded(codes: np.ndarray, nlevels: int) -> np.ndarray:
    out = np.zeros((codes.size, nlevels - 1))
    for j in range(nlevels - 1):
        out[codes == j, j] = 1.0
    out[codes == nlevels - 1, :] = -1.0
    return out


def _infinite(beta: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Coefficients running off to infinity (separation): huge on the link scale and huger SEs."""
    return (np.abs(beta) > 15.0) & (se > 10.0 * np.maximum(np.abs(beta), 1.0) / 15.0)


def fixed_effects_glm(fit: GlmmFit) -> GlmAlternative:
    """The grouping factors (and their interactions with random slopes) as sum-coded fixed effects."""
    model = fit.glmm
    design: Design = model.design
    columns, names = [design.X], list(design.fixed.names)
    seen: set[str] = set()
    for block in design.blocks:
        coded = _sum_coded(block.factor.codes, block.nlevels)
        for j, col in enumerate(block.columns):
            key = f"{block.group}:{col}"
            if key in seen:
                continue
            seen.add(key)
            values = block.values[:, j : j + 1] * coded
            columns.append(values)
            prefix = block.group if col == "(Intercept)" else f"{col}:{block.group}"
            names += [f"{prefix}{block.factor.levels[i]}" for i in range(block.nlevels - 1)]
    X = np.column_stack(columns)
    keep = _independent(X)
    X, names_kept = X[:, keep], tuple(n for n, k in zip(names, keep, strict=True) if k)
    beta, w, mu, converged = _irls(X, model.y, model.weights, model.offset, model.family)
    vcov = _inverse(X.T @ (X * w[:, None]))
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    infinite = _infinite(beta, se)
    dropped = tuple(n for n, k in zip(names, keep, strict=True) if not k) + tuple(
        n for n, bad in zip(names_kept, infinite, strict=True) if bad)
    ll, aic, bic = _loglik(model, mu, X.shape[1], design.nobs)
    groups = " + ".join(dict.fromkeys(b.group for b in design.blocks))
    formula = f"{design.formula.response.text} ~ {design.formula.fixed.text} + {groups} (sum-coded, GLM)"
    return GlmAlternative(formula, names_kept, beta, vcov, np.full(beta.size, np.inf), ll, aic, bic, None, 0,
                          dropped, converged)


def _independent(X: np.ndarray) -> np.ndarray:
    keep = np.zeros(X.shape[1], dtype=bool)
    basis = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        col = X[:, j]
        if basis.shape[1]:
            col = col - basis @ (basis.T @ col)
        norm = np.linalg.norm(col)
        if norm > 1e-7 * max(float(np.linalg.norm(X[:, j])), 1e-300):
            keep[j] = True
            basis = np.column_stack([basis, col / norm])
    return keep


def _inverse(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.full_like(a, np.nan)


def cluster_robust_glm(fit: GlmmFit) -> GlmAlternative:
    """The GLM of the fixed part with CR2 standard errors clustered by the first grouping factor."""
    model = fit.glmm
    design = model.design
    X = design.X
    beta, w, mu, converged = _irls(X, model.y, model.weights, model.offset, model.family)
    cluster = _cluster_factor(design)
    sw = np.sqrt(w)
    xw = X * sw[:, None]
    bread = _inverse(xw.T @ xw)
    # working residuals on the weighted scale: √w (y − μ)/μ' = (y − μ) √(wt / V(μ)), Pearson's
    resid = (model.y - mu) * np.sqrt(model.weights / model.family.variance(mu))
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in range(cluster.nlevels):
        rows = np.flatnonzero(cluster.codes == g)
        xg = xw[rows]
        h = xg @ bread @ xg.T
        vals, vecs = np.linalg.eigh(np.eye(rows.size) - h)
        inv_root = (vecs / np.sqrt(np.clip(vals, 1e-12, None))) @ vecs.T
        s = xg.T @ (inv_root @ resid[rows])
        meat += np.outer(s, s)
    vcov = bread @ meat @ bread
    ll, aic, bic = _loglik(model, mu, X.shape[1], design.nobs)
    formula = f"{design.formula.response.text} ~ {design.formula.fixed.text} (GLM, CR2 by {cluster.name})"
    df = np.full(beta.size, float(max(cluster.nlevels - 1, 1)))
    return GlmAlternative(formula, design.fixed.names, beta, vcov, df, ll, aic, bic, cluster.name, cluster.nlevels,
                          (), converged)


def _cluster_factor(design: Design) -> GroupingFactor:
    """The grouping factor with fewest levels (as the linear model's cluster-robust alternative)."""
    return min((b.factor for b in design.blocks), key=lambda f: f.nlevels)


def glmm_effects(fit: GlmmFit, terms: tuple[str, ...]) -> tuple[EffectEstimate, ...]:
    """Wald z tests of the effects of interest of a GLMM fit."""
    nan = float("nan")
    out = []
    for term in terms:
        if term in fit.fixed_names:
            j = fit.fixed_names.index(term)
            out.append(effect_estimate(term, float(fit.beta[j]), float(fit.std_errors[j]), float("inf")))
        else:
            out.append(effect_estimate(term, nan, nan, nan))
    return tuple(out)


def glm_effects(alt: GlmAlternative, terms: tuple[str, ...]) -> tuple[EffectEstimate, ...]:
    """z (model-based) or t with G − 1 df (CR2) tests of the effects of interest of a GLM alternative."""
    se = np.sqrt(np.clip(np.diag(alt.vcov), 0.0, None))
    nan = float("nan")
    out = []
    for term in terms:
        if term in alt.names and term not in alt.dropped:
            i = alt.names.index(term)
            out.append(effect_estimate(term, float(alt.beta[i]), float(se[i]), float(alt.df[i])))
        else:
            out.append(effect_estimate(term, nan, nan, nan))
    return tuple(out)
