"""Residual saturation: is anything left to estimate the residual variance from?

Also reports a model whose random effects, counted over all terms, are as many as the
observations (lme4 refuses this per term only, so the design does too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...design.exact import EXACT_FIT_SHARE, unexplained_share
from ..context import Context
from ..finding import Finding, Remedy
from ..parameters import variance_name
from ..remedies import ranked

if TYPE_CHECKING:
    from ...design import Design
from .registry import register

__all__ = ["RESIDUAL_COLLAPSE", "RESIDUAL_DF_FRACTION", "RESIDUAL_DF_MIN", "check_saturation", "exact_share"]

#: σ̂² below this share of the response's variance has collapsed to zero.
RESIDUAL_COLLAPSE = 1e-6
#: Fewer residual degrees of freedom (n − trace of the hat matrix) than this share of n ...
RESIDUAL_DF_FRACTION = 0.05
#: ... or than this number leave the residual variance poorly determined.
RESIDUAL_DF_MIN = 5.0


def _remedies(ctx: Context, factors: list[str]) -> tuple[Remedy, ...]:
    out: list[Remedy | None] = []
    for block in ctx.design.blocks:
        if block.group in factors:
            out.append(ctx.editor.drop_term(block, f"with (nearly) one observation per level of {block.group} "
                                                   "its variance is the residual variance"))
            out.append(ctx.editor.intercept_only(block, "fewer random effects per level than observations"))
    out.append(Remedy("more_levels", None, "collect several observations per level so that within-level "
                                           "variation identifies the residual variance"))
    return ranked(out)


def exact_share(design: Design) -> float | None:
    """The share of the response the fixed part leaves unexplained, when it is below
    :data:`~lmmdx.design.exact.EXACT_FIT_SHARE` (the fixed part reproduces the response); else None."""
    share = unexplained_share(design.X, design.y, "(Intercept)" in design.fixed.names)
    return share if share is not None and share < EXACT_FIT_SHARE else None


def _exact_fit(ctx: Context, share: float) -> Finding:
    response = ctx.design.formula.response_label
    columns = [c for c in ctx.design.fixed.names if c != "(Intercept)"]
    return Finding(
        "response_fitted_exactly", "error", ("residual",),
        {"nobs": ctx.design.nobs, "unexplained_share": share, "fixed_columns": columns},
        f"The fixed part ({', '.join(columns) or 'the intercept'}) reproduces the response {response} exactly: "
        "its least-squares residuals are zero to rounding. Nothing is left for the random effects or the residual, "
        "so neither variance has an estimate (the likelihood grows without bound as they shrink to zero) and the "
        "residual has zero degrees of freedom: the model saturates the data. Such a response is usually computed "
        "from the covariates (a derived column, a copy), not measured.",
        (Remedy("drop_fixed", None, f"check that {response} is not computed from "
                f"{', '.join(columns) or 'a constant'}; model a measured response, or leave those columns out"),),
        title=f"the fixed part reproduces {response} exactly",
    )


@register("saturation", order=0)
def check_saturation(ctx: Context) -> list[Finding]:
    """Structural saturation per factor, residual df from the hat matrix, a collapsed σ̂²."""
    out = []
    n = ctx.design.nobs
    share = exact_share(ctx.design)
    if share is not None:
        return [_exact_fit(ctx, share)]
    edf = ctx.effective_df
    fit = ctx.fit
    evidence: dict[str, object] = {"nobs": n}
    if edf is not None:
        evidence.update(effective_df=edf, residual_df=n - edf)
    saturated = [row for row in ctx.support if row.saturated_share >= 1.0]
    if saturated:
        names = [row.factor for row in saturated]
        row = saturated[0]
        params = [variance_name(row.factor, c) for b in ctx.design.blocks if b.group == row.factor for c in b.columns]
        out.append(Finding(
            "residual_not_identifiable", "error", (*params, "residual"),
            {**evidence, "factors": names, "obs_per_level_max": row.obs_max},
            f"Every observation is in a level of {row.factor} with as many random effects as observations "
            f"(at most {row.obs_max:g} per level): each observation's random effect can absorb its residual, "
            "so the residual variance and the variance of "
            + " and ".join(row.terms) + " are not separately identifiable; only their sum is. The residual "
            "has zero degrees of freedom of its own, so its variance is not defined by the data, and software "
            "that reports a standard error of zero for it signals this non-identifiability, not precision.",
            _remedies(ctx, names),
            title=f"residual variance not identifiable: one observation per level of {row.factor}"
            if row.obs_max <= 1 else f"residual variance not identifiable: levels of {row.factor} are saturated",
        ))
    q = sum(b.nlevels * b.k for b in ctx.design.blocks)
    if q >= n and not saturated:
        out.append(Finding(
            "random_effects_saturate", "info", ("residual",), {**evidence, "random_effects": q},
            f"The model has {q} random effects for {n} observations. lme4 accepts this (it checks each term, "
            "and each has fewer random effects than observations): the random effects are not all "
            "separately determined by the data, and the variances are identified only through the structure "
            "of the model, as in a split-plot ANOVA whose mean squares estimate them. The residual degrees of "
            "freedom from the hat matrix say how much information is left for the residual variance.",
            title=f"as many random effects ({q}) as observations ({n})" if q == n
            else f"more random effects ({q}) than observations ({n})",
        ))
    var_y = float(np.var(ctx.design.y))
    if var_y == 0.0:
        return [Finding(
            "constant_response", "error", ("residual",), {"nobs": n, "value": float(ctx.design.y[0])},
            f"The response takes the single value {ctx.design.y[0]:g} in all {n} observations: there is no "
            "variation to attribute to random effects or to the residual, so no variance is identifiable.",
            title="the response is constant",
        )]
    if fit is not None:
        ratio = fit.sigma**2 / var_y
        if ratio < RESIDUAL_COLLAPSE and not saturated:
            out.append(Finding(
                "residual_variance_collapsed", "error", ("residual",), {**evidence, "sigma2_over_var_y": ratio},
                f"The residual variance is estimated at {fit.sigma ** 2:.3g}, {ratio:.2g} of the response's "
                "variance: the random effects reproduce the data (almost) exactly and the residual variance is "
                "not identified.",
                _remedies(ctx, [b.group for b in ctx.design.blocks]),
                title="residual variance collapsed to zero",
            ))
        if edf is not None and not saturated and n - edf < max(RESIDUAL_DF_MIN, RESIDUAL_DF_FRACTION * n):
            out.append(Finding(
                "few_residual_df", "warning", ("residual",), evidence,
                f"The fit uses {edf:.1f} effective degrees of freedom (trace of the hat matrix, random effects "
                f"included) of {n} observations, leaving {n - edf:.1f} for the residual variance: it is poorly "
                "determined and easily confused with the random-effects variances.",
                _remedies(ctx, [b.group for b in ctx.design.blocks]),
                title=f"only {n - edf:.1f} residual degrees of freedom",
            ))
    return out
