"""Data support per grouping factor: too few levels, slopes confounded with intercepts, centring."""

from __future__ import annotations

import math

from ..context import Context
from ..finding import Finding, Remedy
from ..parameters import correlation_name, variance_name
from ..remedies import ranked
from ..support import LEVELS_PER_PARAMETER, SINGULAR_REASON, WITHIN_SHARE_ZERO
from ..tables import FactorSupport
from .registry import register

__all__ = ["CENTRING_CORRELATION", "check_support"]

#: Report the centring of a slope covariate when it would lower |intercept–slope
#: correlation| by more than this.
CENTRING_CORRELATION = 0.3


def _blocks(ctx: Context, factor: str) -> list:
    return [b for b in ctx.design.blocks if b.group == factor]


def _confounded(ctx: Context, row: FactorSupport) -> list[Finding]:
    out = []
    for slope in row.slopes:
        if slope.within_share >= WITHIN_SHARE_ZERO:
            continue
        block = next(b for b in _blocks(ctx, row.factor) if slope.column in b.columns)
        params = [variance_name(row.factor, slope.column)]
        if "(Intercept)" in block.columns:
            params.append(correlation_name(row.factor, "(Intercept)", slope.column))
        remedies: list[Remedy | None] = [
            ctx.editor.drop_slope(block, slope.column, f"{slope.column} is a property of the {row.factor} "
                                                       "level: keep it as a fixed effect only"),
            ctx.editor.intercept_only(block, f"the random intercept already carries all between-{row.factor} "
                                             "variation"),
        ]
        out.append(Finding(
            "slope_confounded", "error", tuple(params),
            {"factor": row.factor, "covariate": slope.column, "within_share": slope.within_share},
            f"{slope.column} does not vary within levels of {row.factor} (within-level share of its variance "
            f"{slope.within_share:.2g}): within each level the random slope multiplies a constant, so it is "
            "confounded with the random intercept and its variance is not identifiable from the data. A random "
            "slope needs the covariate to vary within levels.",
            ranked(remedies),
            title=f"random slope of {slope.column} confounded with the intercept of {row.factor}",
        ))
    return out


def _levels(ctx: Context, row: FactorSupport) -> list[Finding]:
    blocks = _blocks(ctx, row.factor)
    k = sum(b.k for b in blocks)
    if row.levels > k:
        return []
    block = blocks[0]
    remedies: list[Remedy | None] = [
        ctx.editor.intercept_only(block, "fewer random effects per level") if row.levels >= 2 else None,
        ctx.editor.fixed_factor(block, f"with {row.levels} levels, {row.factor} is better modelled as fixed effects"),
        ctx.editor.drop_term(block, f"{row.levels} levels cannot inform a variance"),
        ctx.editor.more_levels(row.factor, LEVELS_PER_PARAMETER * row.n_params,
                               "a variance is estimated from the variation between levels"),
    ]
    return [Finding(
        "too_few_levels", "error", tuple(variance_name(row.factor, c) for b in blocks for c in b.columns),
        {"factor": row.factor, "levels": row.levels, "random_effects_per_level": k},
        f"{row.factor} has {row.levels} level{'s' if row.levels != 1 else ''} for {k} random effect"
        f"{'s' if k != 1 else ''} per level: the between-level covariance cannot be estimated with full rank "
        "(a variance needs at least two levels, a k x k covariance more than k).",
        ranked(remedies),
        title=f"{row.factor}: {row.levels} level{'s' if row.levels != 1 else ''} for {k} random effects",
    )]


def _centring(ctx: Context, row: FactorSupport) -> list[Finding]:
    out = []
    for slope in row.slopes:
        if not (slope.corr_user is not None and slope.corr_centred is not None
                and math.isfinite(slope.corr_user) and math.isfinite(slope.corr_centred)):
            continue
        if abs(slope.corr_user) - abs(slope.corr_centred) <= CENTRING_CORRELATION:
            continue
        block = next(b for b in _blocks(ctx, row.factor) if slope.column in b.columns)
        column = block.values[:, block.columns.index(slope.column)]
        remedy = ctx.editor.centre(slope.column, float(column.mean()),
                                   "the intercept then refers to the covariate's mean, where it is estimated "
                                   "best, and the correlation no longer reflects the choice of origin")
        out.append(Finding(
            "uncentred_slope", "info", (correlation_name(row.factor, "(Intercept)", slope.column),),
            {"covariate": slope.column, "mean_over_sd": slope.origin_ratio, "corr": slope.corr_user,
             "corr_centred": slope.corr_centred},
            f"The zero of {slope.column} lies {slope.origin_ratio:.1f} standard deviations from its mean, so the "
            f"random intercept is the value at a point away from the data and its correlation with the slope "
            f"({slope.corr_user:+.2f}) is largely an artefact of the origin: centred at its mean it would be "
            f"{slope.corr_centred:+.2f}. The fit is the same model; only the parameterisation differs.",
            (remedy,) if remedy is not None else (),
            title=f"intercept-slope correlation of {row.factor} depends on the origin of {slope.column}",
        ))
    return out


def _weak(ctx: Context, row: FactorSupport) -> list[Finding]:
    design_reasons = [r for r in row.reasons if r != SINGULAR_REASON]
    if row.rating != "yellow" or not design_reasons:
        return []
    block = _blocks(ctx, row.factor)[0]
    needed = LEVELS_PER_PARAMETER * row.n_params
    remedies: list[Remedy | None] = [
        ctx.editor.more_levels(row.factor, needed, "each variance-covariance parameter is estimated from "
                                                   "between-level variation") if row.levels < needed else None,
        ctx.editor.uncorrelated(block, "fewer parameters asked of the same levels"),
        ctx.editor.intercept_only(block, "one parameter asked of the same levels"),
    ]
    return [Finding(
        "weak_support", "info", (row.factor,),
        {"factor": row.factor, "levels": row.levels, "n_params": row.n_params, "reasons": list(row.reasons)},
        f"The data give {row.factor} limited support: " + "; ".join(row.reasons) + ". Such designs often "
        "produce singular fits or imprecise variance estimates.",
        ranked(remedies),
        title=f"{row.factor}: limited data support ({row.levels} levels, {row.n_params} "
              f"parameter{'s' if row.n_params != 1 else ''})",
    )]


@register("support", order=1)
def check_support(ctx: Context) -> list[Finding]:
    """Findings from the data-support table."""
    out = []
    for row in ctx.support:
        out += _levels(ctx, row) + _confounded(ctx, row) + _centring(ctx, row) + _weak(ctx, row)
    return out
