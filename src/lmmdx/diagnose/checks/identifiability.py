"""Identifiability from the observed information of the variance–covariance parameters."""

from __future__ import annotations

from ..context import Context
from ..finding import Finding, Remedy
from ..information import ILL_CONDITIONED, NEAR_NULL
from ..remedies import ranked
from .registry import register

__all__ = ["check_identifiability"]

_ZERO_SE_TEXT = (
    "A standard error of zero (as SAS PROC MIXED prints with a generalised inverse) or an undefined one means "
    "the parameter is not identifiable from these data, not that it is known with infinite precision."
)


def _remedies(ctx: Context, names: set[str]) -> tuple[Remedy, ...]:
    out: list[Remedy | None] = []
    for block in ctx.design.blocks:
        if not any(n.startswith(f"{block.group}: ") for n in names):
            continue
        out += [
            ctx.editor.uncorrelated(block, "removes the correlations, the parameters least determined"),
            ctx.editor.intercept_only(block, f"keeps only the between-{block.group} variation of the intercept"),
            ctx.editor.drop_term(block, f"removes {block.term.text}, whose parameters the data do not separate "
                                        "from the others"),
        ]
    out.append(ctx.editor.penalised("priors on the covariances make the information matrix positive definite"))
    return ranked(out)


@register("identifiability", order=4)
def check_identifiability(ctx: Context) -> list[Finding]:
    """Near-null directions of the information, its condition number, undefined standard errors."""
    info = ctx.information
    if ctx.fit is None or info is None:
        return []
    summary = info.summary
    out = []
    evidence = {"parameters": list(summary.parameters), "eigenvalues": list(summary.eigenvalues),
                "condition_number": summary.condition, "held_on_boundary": list(summary.boundary)}
    if summary.near_null or not summary.positive_definite:
        combos = [c.describe() for c in summary.near_null]
        names = {n for c in summary.near_null for n, v in c.loadings.items() if abs(v) >= 0.1}
        out.append(Finding(
            "information_singular", "error", tuple(n for n in summary.parameters if n in names),
            {**evidence, "null_combinations": combos},
            "The observed information (Hessian of the criterion) of the variance-covariance parameters is "
            "singular: along " + "; ".join(combos or ["some direction"]) + " the likelihood does not change, "
            "so the data cannot determine that combination of parameters and their standard errors are "
            "undefined. " + _ZERO_SE_TEXT,
            _remedies(ctx, names),
            title="the data cannot " + (summary.near_null[0].plain() if summary.near_null
                                        else "determine all variance parameters"),
        ))
    elif summary.condition > ILL_CONDITIONED:
        out.append(Finding(
            "information_ill_conditioned", "warning", tuple(summary.parameters), evidence,
            f"The observed information of the variance-covariance parameters has condition number "
            f"{summary.condition:.3g} (scaled to unit diagonal; above {ILL_CONDITIONED:g}): some combination of "
            "them is nearly undetermined and the estimates are highly correlated. The smallest eigenvalue is "
            f"{min(summary.eigenvalues):.3g} of the largest (a singular direction would be below "
            f"{NEAR_NULL:g}).",
            _remedies(ctx, set(summary.parameters)),
            title=f"information matrix ill-conditioned (condition number {summary.condition:.3g})",
        ))
    held = [c for c in info.components if c.status == "boundary"]
    if held:
        out.append(Finding(
            "standard_error_on_boundary", "info", tuple(c.parameter for c in held),
            {"parameters": [c.parameter for c in held], "estimates": [c.estimate for c in held]},
            "These parameters are on the boundary of the parameter space, so no Wald standard error is "
            "given for them: a quadratic approximation of the likelihood does not hold there. The other "
            "standard errors are computed with them held at the boundary. " + _ZERO_SE_TEXT,
            title="no standard error for parameters on the boundary",
        ))
    return out
