"""Boundary (singular) fits: which variance is zero, which correlation is ±1, how many dimensions remain."""

from __future__ import annotations

import numpy as np

from ...boundary import BOUNDARY_TOLERANCE, TermBoundary, correlations
from ..context import Context
from ..finding import Finding, Remedy
from ..parameters import correlation_name, variance_name
from ..remedies import ranked
from ..support import LEVELS_PER_PARAMETER
from .registry import register

__all__ = ["check_boundary"]

#: Step into the interior (as a share of σ² for a variance, of the correlation's distance
#: to ±1 otherwise) used to measure how firmly the data hold the estimate on the boundary.
_INWARD = 1e-2


def _level_mean_ratio(ctx: Context, index: int) -> float | None:
    """For an intercept-only term: observed variance of the level means of the fixed-effects
    residuals over the variance residual noise alone would give them (< 1: less than noise)."""
    block = ctx.design.blocks[index]
    fit = ctx.fit
    if block.columns != ("(Intercept)",) or fit is None or fit.sigma <= 0:
        return None
    x, y = ctx.design.X, ctx.design.y
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0] if x.shape[1] else y - y.mean()
    codes, nlev = block.factor.codes, block.nlevels
    counts = np.bincount(codes, minlength=nlev)
    means = np.bincount(codes, weights=resid, minlength=nlev) / np.maximum(counts, 1)
    observed = float(np.var(means, ddof=1)) if nlev > 1 else float("nan")
    sigma2 = float(np.sum((resid - means[codes]) ** 2) / max(len(y) - nlev, 1))
    expected = sigma2 * float(np.mean(1.0 / np.maximum(counts, 1)))
    return observed / expected if expected > 0 else None


def _inward_change(ctx: Context, index: int, term: TermBoundary) -> float | None:
    """Criterion increase for a small step from the boundary into the interior."""
    info = ctx.information
    if info is None:
        return None
    phi = info.phi.copy()
    mats, sigma2 = info.varcov.covariances(phi)
    mat = mats[index].copy()
    if term.zero_effects:
        j = term.zero_effects[0]
        z2 = float(np.mean(ctx.design.blocks[index].values[:, j] ** 2)) or 1.0
        mat[j, j] += _INWARD * sigma2 / z2
    else:
        sd, corr = correlations(mat)
        k = corr.shape[0]
        corr = (1 - _INWARD) * corr + _INWARD * np.eye(k)
        mat = corr * np.outer(sd, sd)
    mats[index] = mat
    moved = info.varcov.pack(mats, sigma2)
    return float(info.varcov.criterion(moved) - info.varcov.criterion(phi))


def _remedies(ctx: Context, index: int, term: TermBoundary, unsupported: list[str]) -> tuple[Remedy, ...]:
    block = ctx.design.blocks[index]
    ed = ctx.editor
    out: list[Remedy | None] = []
    if term.correlation_boundary and not term.zero_effects:
        out.append(ed.uncorrelated(block, "removes the correlation the data cannot estimate and keeps both "
                                          "variances"))
    only = ed.intercept_only(block, f"keeps only the between-{block.group} variation of the intercept")
    for column in unsupported:
        if column != "(Intercept)":
            slim = ed.drop_slope(block, column, f"removes the random slope of {column} whose variance the data "
                                                "do not support")
            if slim is not None and (only is None or slim.formula != only.formula):  # name it intercept_only
                out.append(slim)
    out.append(only)
    if block.columns == ("(Intercept)",):
        out.append(ed.drop_term(block, f"a zero variance of {block.term.text} means the term adds nothing: "
                                       "the fixed effects are those of the model without it"))
    out.append(ed.penalised("keeps the design's random-effects structure with estimates pulled off the "
                            "boundary by weakly informative priors", block.term.text))
    levels = block.nlevels
    n_params = block.k * (block.k + 1) // 2
    if levels < LEVELS_PER_PARAMETER * n_params:
        out.append(ed.more_levels(block.group, LEVELS_PER_PARAMETER * n_params,
                                  f"{levels} levels of {block.group} inform {n_params} variance-covariance "
                                  "parameters poorly"))
    return ranked(out)


def _finding(ctx: Context, index: int, term: TermBoundary) -> Finding:
    block = ctx.design.blocks[index]
    fit = ctx.fit
    assert fit is not None
    g, cols = block.group, block.columns
    t_int = fit.model.deviance.layout.factors(fit.theta_internal)[index]
    own_zero = [cols[j] for j in range(block.k) if t_int[j, j] < BOUNDARY_TOLERANCE]
    pca = ctx.pca[index]
    info = ctx.information
    mats, _ = info.varcov.covariances(info.phi) if info is not None else ([], 0.0)
    mat = mats[index] if mats else np.zeros((block.k, block.k))
    params: list[str] = []
    evidence: dict[str, object] = {
        "term": block.term.text,
        "repca_sdev": [float(v) for v in pca.sdev],
        "dimensions_supported": pca.supported,
        "dimensions_asked": block.k,
        "variances": {cols[j]: float(mat[j, j]) for j in range(block.k)},
        "collapsed_loadings": [dict(zip(cols, map(float, pca.loadings[:, c]), strict=True))
                               for c in range(pca.supported, block.k)],
    }
    if term.zero_effects:
        zero = [cols[j] for j in term.zero_effects]
        params += [variance_name(g, c) for c in zero]
        params += [correlation_name(g, cols[a], cols[b]) for a in range(block.k) for b in range(a + 1, block.k)
                   if a in term.zero_effects or b in term.zero_effects]
        what = " and ".join(zero)
        title = f"singular fit: the variance of {variance_name(g, what)} is zero"
        text = (f"The variance of {what} between levels of {g} is estimated as exactly zero, on the boundary "
                f"of the parameter space: the fit is singular. ")
        ratio = _level_mean_ratio(ctx, index)
        if ratio is not None:
            evidence["level_mean_variance_ratio"] = ratio
            text += (f"The {g} means of the data vary {'less than' if ratio < 1 else 'only about as much as'} "
                     f"residual noise alone would make them vary (observed/expected variance {ratio:.2f}), "
                     "so the best estimate of the between-level variance is 0. ")
        text += ("A zero variance is a legitimate estimate, but its Wald standard error is meaningless and "
                 "the data cannot distinguish a small positive variance from none.")
    else:
        pairs = [(a, b) for a in range(block.k) for b in range(a + 1, block.k)]
        sd, corr = correlations(mat)
        corrs = {correlation_name(g, cols[a], cols[b]): float(corr[a, b]) for a, b in pairs
                 if sd[a] * sd[b] > 0}
        evidence["correlations"] = corrs
        params += list(corrs) + [variance_name(g, c) for c in own_zero if c != "(Intercept)" or len(own_zero) == 1]
        at_one = [f"{correlation_name(g, cols[a], cols[b]).split(': ', 1)[1]} = {corr[a, b]:+.2f}"
                  for a, b in pairs if sd[a] * sd[b] > 0 and term.correlation_at_edge(a, b, float(corr[a, b]))]
        title = f"singular fit: {block.term.text} supports only {pca.supported} of {block.k} dimensions" + (
            f" ({', '.join(at_one)})" if at_one else "")
        text = (f"The covariance matrix of {block.term.text} is estimated with rank {pca.supported} of "
                f"{block.k}: " + (f"the correlation {', '.join(at_one)} is on the boundary, so " if at_one
                                  else "")
                + "the random effects vary along fewer dimensions than the model asks for. "
                + (f"The variation of {', '.join(own_zero)} beyond what the other effects of the term imply is "
                   "estimated as zero: " if own_zero else "")
                + "the data cannot estimate these variance-covariance parameters separately. The remaining "
                  "estimates are conditional on the boundary and their standard errors ignore it.")
    change = _inward_change(ctx, index, term)
    if change is not None:
        evidence["criterion_increase_into_interior"] = change
    unsupported = [cols[j] for j in term.zero_effects] or own_zero
    return Finding("singular_fit", "warning", tuple(dict.fromkeys(params)), evidence, text,
                   _remedies(ctx, index, term, unsupported), title=title)


@register("boundary", order=2)
def check_boundary(ctx: Context) -> list[Finding]:
    """One finding per random-effects term whose covariance is on the boundary."""
    info = ctx.information
    if ctx.fit is None or info is None:
        return []
    return [_finding(ctx, term.block, term) for term in info.terms if term.singular]
