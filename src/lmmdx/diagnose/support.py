"""How much the data can say about each grouping factor: the data-support table.

For each grouping factor: its levels, observations per level, the number of
variance–covariance parameters the formula asks of it, and for each random slope
the share of the covariate's variance that lies within levels and the
intercept–slope correlation that centring the covariate would remove.

Traffic light (the thresholds are the constants below):

* **red — not identifiable**: fewer than 2 levels; no more levels than random
  effects per level (the k × k covariance has rank < k); every observation sits in
  a level with at least as many random effects as observations (the residual
  cannot be told apart, e.g. one observation per level); or a random slope whose
  covariate does not vary within levels (its slope is confounded with the
  random intercept).
* **yellow — risk of a singular fit**: fewer than :data:`MIN_LEVELS` levels, fewer
  than :data:`LEVELS_PER_PARAMETER` levels per variance–covariance parameter, a
  slope covariate with less than :data:`WITHIN_SHARE_LOW` of its variance within
  levels, more than :data:`SATURATED_SHARE_HIGH` of the observations in saturated
  levels, or a fit that is singular in this factor's terms.
* **green** otherwise.
"""

from __future__ import annotations

import numpy as np

from ..boundary import correlation
from ..design import Design
from ..design.random import ReBlock
from ..result import Fit
from .tables import FactorSupport, SlopeSupport

__all__ = [
    "LEVELS_PER_PARAMETER",
    "MIN_LEVELS",
    "SATURATED_SHARE_HIGH",
    "SINGULAR_REASON",
    "WITHIN_SHARE_LOW",
    "WITHIN_SHARE_ZERO",
    "data_support",
]

#: Fewer levels than this make a single variance hard to estimate (Bolker et al. 2009,
#: Trends Ecol. Evol. 24(3); Harrison et al. 2018, PeerJ 6:e4794: "at least five levels").
MIN_LEVELS = 5
#: The same advice per variance–covariance parameter of a factor: a heuristic, since
#: each parameter of a k × k covariance is estimated from the between-level variation.
LEVELS_PER_PARAMETER = 5
#: A covariate with less than this share of its variance within levels informs its
#: random slope mostly through between-level contrasts, which the intercept absorbs.
WITHIN_SHARE_LOW = 0.10
#: Below this the covariate is constant within levels (up to rounding).
WITHIN_SHARE_ZERO = 1e-10
#: The reason given when the rating is yellow because the fit is singular in the factor's terms.
SINGULAR_REASON = "the fit is singular in this factor's terms"
#: More than this share of the observations in saturated levels leaves the residual
#: variance to the remaining observations.
SATURATED_SHARE_HIGH = 0.5


def _saturated_rows(block: ReBlock, counts: np.ndarray) -> int:
    """Observations in levels where the term's k effects can fit every observation exactly."""
    k = block.k
    candidate = np.nonzero((counts <= k) & (counts > 0))[0]
    if candidate.size == 0:
        return 0
    if k == 1:
        nonzero = np.bincount(block.factor.codes, weights=(block.values[:, 0] != 0).astype(float),
                              minlength=block.nlevels)
        return int(counts[candidate][nonzero[candidate] == counts[candidate]].sum())
    total = 0
    order = np.argsort(block.factor.codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for level in candidate:
        rows = order[starts[level]:starts[level + 1]]
        if np.linalg.matrix_rank(block.values[rows]) >= rows.size:
            total += rows.size
    return total


def _within_share(column: np.ndarray, codes: np.ndarray, nlevels: int, counts: np.ndarray) -> float:
    total = float(np.sum((column - column.mean()) ** 2))
    if total <= 0:
        return 0.0
    means = np.bincount(codes, weights=column, minlength=nlevels) / np.maximum(counts, 1)
    within = float(np.sum((column - means[codes]) ** 2))
    return within / total


def _slopes(blocks: list[tuple[int, ReBlock]], fit: Fit | None, counts: np.ndarray) -> list[SlopeSupport]:
    out = []
    for index, block in blocks:
        cov = None
        if fit is not None:
            t = fit.model.factors_to_user(fit.theta_internal)[index]
            cov = fit.sigma**2 * (t @ t.T)
        cols = list(block.columns)
        intercept = cols.index("(Intercept)") if "(Intercept)" in cols else None
        slope_idx = [j for j, c in enumerate(cols) if j != intercept and np.ptp(block.values[:, j]) > 0]
        means = {j: float(block.values[:, j].mean()) for j in slope_idx}
        centre = np.eye(block.k)
        if intercept is not None:
            for j in slope_idx:
                centre[intercept, j] = means[j]
        for j in slope_idx:
            column = block.values[:, j]
            sd = float(column.std())
            share = _within_share(column, block.factor.codes, block.nlevels, counts)
            corr_user = corr_centred = None
            if cov is not None and intercept is not None:
                corr_user = _corr(cov, intercept, j)
                corr_centred = _corr(centre @ cov @ centre.T, intercept, j)
            ratio = abs(means[j]) / sd if sd > 0 else float("inf")
            out.append(SlopeSupport(cols[j], share, ratio, corr_user, corr_centred))
    return out


def _corr(cov: np.ndarray, a: int, b: int) -> float:
    return correlation(cov, a, b)


def _rate(levels: int, n_params: int, k_max: int, saturated: float, slopes: list[SlopeSupport],
          has_intercept: bool, singular: bool) -> tuple[str, tuple[str, ...]]:
    red, yellow = [], []
    if levels < 2:
        red.append(f"{levels} level: no variation between levels to estimate")
    elif levels <= k_max:
        red.append(f"{levels} levels for {k_max} random effects per level: the covariance cannot have full rank")
    if saturated >= 1.0:
        red.append("every observation is in a level with as many random effects as observations: "
                   "the residual variance cannot be told apart")
    elif saturated > SATURATED_SHARE_HIGH:
        yellow.append(f"{saturated:.0%} of the observations are in levels with as many random effects "
                      "as observations")
    for slope in slopes:
        if has_intercept and slope.within_share < WITHIN_SHARE_ZERO:
            red.append(f"{slope.column} does not vary within levels: its random slope is confounded "
                       "with the random intercept")
        elif slope.within_share < WITHIN_SHARE_LOW:
            yellow.append(f"only {slope.within_share:.1%} of the variance of {slope.column} lies within levels")
    if 2 <= levels < MIN_LEVELS:
        yellow.append(f"{levels} levels (fewer than {MIN_LEVELS})")
    elif levels < LEVELS_PER_PARAMETER * n_params and levels > k_max:
        yellow.append(f"{levels} levels for {n_params} variance-covariance parameters "
                      f"(fewer than {LEVELS_PER_PARAMETER} per parameter)")
    if singular:
        yellow.append(SINGULAR_REASON)
    if red:
        return "red", tuple(red + yellow)
    return ("yellow", tuple(yellow)) if yellow else ("green", ())


def data_support(design: Design, fit: Fit | None = None) -> tuple[FactorSupport, ...]:
    """The data-support table, one row per grouping factor (engine order of first appearance)."""
    by_factor: dict[str, list[tuple[int, ReBlock]]] = {}
    for index, block in enumerate(design.blocks):
        by_factor.setdefault(block.group, []).append((index, block))
    singular_blocks: set[int] = set()
    if fit is not None:
        singular_blocks = {term.block for term in fit.boundary if term.singular}
    rows = []
    for name, blocks in by_factor.items():
        first = blocks[0][1]
        counts = np.bincount(first.factor.codes, minlength=first.nlevels).astype(float)
        n_params = sum(b.k * (b.k + 1) // 2 for _, b in blocks)
        k_max = sum(b.k for _, b in blocks)
        saturated = max(_saturated_rows(b, counts) for _, b in blocks) / max(design.nobs, 1)
        slopes = _slopes(blocks, fit, counts)
        has_intercept = any("(Intercept)" in b.columns for _, b in blocks)
        singular = any(i in singular_blocks for i, _ in blocks)
        rating, reasons = _rate(first.nlevels, n_params, k_max, saturated, slopes, has_intercept, singular)
        rows.append(FactorSupport(
            factor=name,
            levels=first.nlevels,
            obs_min=float(counts.min()),
            obs_median=float(np.median(counts)),
            obs_max=float(counts.max()),
            n_params=n_params,
            terms=tuple(b.term.text for _, b in blocks),
            saturated_share=saturated,
            rating=rating,
            reasons=reasons,
            slopes=tuple(slopes),
        ))
    return tuple(rows)
