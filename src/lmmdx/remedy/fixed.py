"""Fixed-effects alternatives: the grouping factor as fixed effects, and OLS with cluster-robust SEs.

* Fixed effects: the grouping factor enters as fixed effects, and with its
  interaction with each covariate that had a random slope. Sum-to-zero coding of
  the factor keeps the user's coefficients interpretable: the coefficient of
  ``x`` is the unweighted average of the within-group slopes. Inference is
  conditional on these groups (classical OLS, n − rank df).
* Cluster-robust: ordinary least squares of the user's fixed part, with the CR2
  bias-reduced sandwich covariance and Satterthwaite degrees of freedom of Bell &
  McCaffrey (2002), as in Pustejovsky & Tipton (2018) and R's clubSandwich
  (``vcovCR(type = "CR2")``, ``coef_test(test = "Satterthwaite")``, working model
  Φ = I). It stays honest with few clusters, where mixed-model variances are
  poorly determined.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..design import Design
from ..design.fixed import FixedEffects, aliased_columns
from ..design.grouping import GroupingFactor
from ..errors import FitError
from ..inference.ols import OlsFit, fit_ols
from .structure import Structure

__all__ = [
    "CR2_LEVERAGE_TOLERANCE",
    "FIXED_EFFECTS_MAX_CELLS",
    "OlsAlternative",
    "cluster_robust",
    "cr2",
    "fixed_effects",
]

#: Largest dense model matrix (rows × columns) the fixed-effects alternative builds;
#: beyond it (thousands of levels) the factor is better treated as random anyway.
FIXED_EFFECTS_MAX_CELLS = 20_000_000
#: Eigenvalues of a cluster's leverage block within this of 1 make I − H_jj singular;
#: CR2 then uses the pseudo-inverse square root, as clubSandwich does.
CR2_LEVERAGE_TOLERANCE = 1e-10
_INTERCEPT_COLUMN = "(Intercept)"


@dataclass(frozen=True, slots=True)
class OlsAlternative:
    """An ordinary least-squares fit with its covariance and per-coefficient df.

    Attributes
    ----------
    formula : str
        The model as an R formula.
    names : tuple of str
        Estimated coefficients.
    dropped : tuple of str
        Columns of the user's fixed part that are not estimable here (aliased).
    beta : ndarray, shape (p,)
    vcov : ndarray, shape (p, p)
    df : ndarray, shape (p,)
        Degrees of freedom of each coefficient's t test.
    sigma : float
        Residual SD (RSS / (n − rank)).
    loglik, aic, bic : float
        Gaussian log-likelihood at the ML estimate of σ, and the criteria from it.
    nobs : int
    cluster : GroupingFactor or None
        The clustering of the CR2 covariance (None: classical OLS covariance).
    """

    formula: str
    names: tuple[str, ...]
    dropped: tuple[str, ...]
    beta: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    sigma: float
    loglik: float
    aic: float
    bic: float
    nobs: int
    cluster: GroupingFactor | None


def _least_squares(design: Design, X: np.ndarray, names: tuple[str, ...]) -> tuple[OlsFit, OlsFit]:
    """OLS of the design's response on ``X``: σ² = RSS / (n − p) with its classical covariance,
    and the ML fit whose log-likelihood, AIC and BIC are reported."""
    ols = replace(design, fixed=FixedEffects(X, names, ()), blocks=())
    return fit_ols(ols, reml=True), fit_ols(ols, reml=False)


def _sum_coding(factor: GroupingFactor) -> np.ndarray:
    """Sum-to-zero contrasts of a factor, shape (n, L − 1)."""
    levels = factor.nlevels
    codes = factor.codes
    out = np.zeros((codes.size, levels - 1))
    rows = np.nonzero(codes < levels - 1)[0]
    out[rows, codes[rows]] = 1.0
    out[codes == levels - 1, :] = -1.0
    return out


def _sum_coded(group: str) -> str:
    """The factor in R's notation for sum-to-zero coding: ``C(g, contr.sum)``."""
    return ":".join(f"C({name}, contr.sum)" for name in group.split(":"))


def _display(structure: Structure) -> str:
    return structure.fixed.removeprefix("1 + ")


def fixed_effects(design: Design, structure: Structure) -> OlsAlternative:
    """OLS with each grouping factor (and its interactions with random slopes) as fixed effects.

    Raises
    ------
    FitError
        When the dense model matrix would exceed :data:`FIXED_EFFECTS_MAX_CELLS`.

    The columns are ordered intercept, factors, interactions, then the user's other
    columns, so that a user column aliased by the factors (a group-level covariate)
    is the one reported as not estimable.
    """
    X, names = design.X, design.fixed.names
    factors: dict[str, GroupingFactor] = {}
    slopes: dict[str, dict[str, np.ndarray]] = {}
    for block in design.blocks:
        factors.setdefault(block.group, block.factor)
        for name, values in zip(block.columns, block.values.T, strict=True):
            if name != _INTERCEPT_COLUMN:
                slopes.setdefault(block.group, {}).setdefault(name, values)
    # (values, name of the user's column or None)
    width = X.shape[1] + sum((f.nlevels - 1) * (1 + len(slopes.get(g, {}))) for g, f in factors.items())
    if width * design.nobs > FIXED_EFFECTS_MAX_CELLS:
        raise FitError(
            f"{width} columns for {design.nobs} rows is too large a fixed-effects model "
            f"(limit {FIXED_EFFECTS_MAX_CELLS:,} cells); with this many levels the factors are better random"
        )
    parts: list[tuple[np.ndarray, str | None]] = [
        (X[:, [j]], name) for j, name in enumerate(names) if name == _INTERCEPT_COLUMN
    ]
    parts += [(_sum_coding(factor), None) for factor in factors.values()]
    for group, factor in factors.items():
        parts += [(values[:, None] * _sum_coding(factor), None) for values in slopes.get(group, {}).values()]
    parts += [(X[:, [j]], name) for j, name in enumerate(names) if name != _INTERCEPT_COLUMN]
    full = np.column_stack([values for values, _ in parts])
    owner = [name for values, name in parts for _ in range(values.shape[1])]
    alias = aliased_columns(full)
    kept = np.nonzero(~alias)[0]
    columns = tuple(str(owner[j]) if owner[j] is not None else f".factor{j}" for j in kept)
    ols, ml = _least_squares(design, full[:, kept], columns)
    n, rank = design.nobs, kept.size
    index = [i for i, j in enumerate(kept) if owner[j] is not None]
    terms = [_sum_coded(g) for g in factors]
    for group in factors:
        terms.extend(f"{name}:{_sum_coded(group)}" for name in slopes.get(group, {}))
    return OlsAlternative(
        formula=f"{structure.response} ~ {_display(structure)} + " + " + ".join(terms),
        names=tuple(str(owner[kept[i]]) for i in index),
        dropped=tuple(str(owner[j]) for j in np.nonzero(alias)[0] if owner[j] is not None),
        beta=ols.beta[index],
        vcov=ols.vcov_beta[np.ix_(index, index)],
        df=np.full(len(index), float(n - rank)),
        sigma=ols.sigma,
        loglik=ml.loglik,
        aic=ml.aic,
        bic=ml.bic,
        nobs=n,
        cluster=None,
    )


def cr2(
    X: np.ndarray, resid: np.ndarray, bread: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CR2 covariance of OLS coefficients and the Satterthwaite df of each coefficient.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    resid : ndarray, shape (n,)
    bread : ndarray, shape (p, p)
        ``(XᵀX)⁻¹``.
    codes : ndarray of int, shape (n,)
        Cluster of each row.

    Returns
    -------
    vcov : ndarray, shape (p, p)
        ``M Σⱼ XⱼᵀAⱼeⱼeⱼᵀAⱼXⱼ M`` with ``Aⱼ = (I − Xⱼ M Xⱼᵀ)^(−1/2)``.
    df : ndarray, shape (p,)
        ``(tr G)² / ‖G‖²_F`` with ``G_ij = gᵢᵀgⱼ``, ``gⱼ = (I − H)ⱼ Aⱼ Xⱼ M c`` (Bell & McCaffrey 2002).
    """
    p = X.shape[1]
    meat = np.zeros((p, p))
    clusters = np.unique(codes)
    sq = np.zeros((clusters.size, p))  # pⱼₖᵀpⱼₖ
    u = np.zeros((clusters.size, p, p))  # Xⱼᵀ Pⱼ
    for j, cluster in enumerate(clusters):
        rows = codes == cluster
        xj = X[rows]
        q, r = np.linalg.qr(xj)
        values, vectors = np.linalg.eigh(r @ bread @ r.T)
        keep = 1.0 - values > CR2_LEVERAGE_TOLERANCE
        power = np.where(keep, 1.0 / np.sqrt(np.where(keep, 1.0 - values, 1.0)), 0.0)
        basis = q @ vectors
        xm = xj @ bread  # (n_j, p)
        pj = xm + basis @ ((power - 1.0)[:, None] * (basis.T @ xm))  # Aⱼ Xⱼ M
        score = pj.T @ resid[rows]
        meat += np.outer(score, score)
        sq[j] = np.sum(pj * pj, axis=0)
        u[j] = xj.T @ pj
    vcov = meat
    df = np.empty(p)
    for k in range(p):
        uk = u[:, :, k].T  # (p, J)
        g = np.diag(sq[:, k]) - uk.T @ bread @ uk
        df[k] = np.trace(g) ** 2 / np.sum(g * g)
    return vcov, df


def cluster_robust(design: Design, structure: Structure) -> OlsAlternative:
    """OLS of the user's fixed part with CR2 SEs, clustered by the grouping factor with fewest levels."""
    X = design.X
    ols, ml = _least_squares(design, X, design.fixed.names)
    bread = np.linalg.inv(X.T @ X)
    factor = min((b.factor for b in design.blocks), key=lambda f: f.nlevels)
    vcov, df = cr2(X, design.y - X @ ols.beta, bread, factor.codes)
    n = design.nobs
    return OlsAlternative(
        formula=f"{structure.response} ~ {_display(structure)}",
        names=design.fixed.names,
        dropped=(),
        beta=ols.beta,
        vcov=vcov,
        df=df,
        sigma=ols.sigma,
        loglik=ml.loglik,
        aic=ml.aic,
        bic=ml.bic,
        nobs=n,
        cluster=factor,
    )
