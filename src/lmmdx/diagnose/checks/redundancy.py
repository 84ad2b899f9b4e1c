"""Redundancy: does each random-effects term need every effect and every dimension it asks for?"""

from __future__ import annotations

from ...design.random import ReBlock
from ..context import Context
from ..dimensions import DimensionTest
from ..finding import Finding, Remedy
from ..parameters import correlation_name, variance_name
from ..remedies import ranked
from .registry import register

__all__ = ["ALPHA_DIMENSION", "check_redundancy"]

#: A random slope, or a term's weakest dimension, is unsupported when its boundary-corrected
#: likelihood-ratio test (see :mod:`lmmdx.diagnose.dimensions`) has a p-value above this.
ALPHA_DIMENSION = 0.05


def _evidence(block: ReBlock, test: DimensionTest, ctx: Context, index: int) -> dict[str, object]:
    return {"term": block.term.text, "lrt_statistic": test.statistic, "p_value": test.p_value,
            "alpha": ALPHA_DIMENSION, "repca_sdev": [float(v) for v in ctx.pca[index].sdev]}


def _scalar(ctx: Context, index: int, block: ReBlock) -> list[Finding]:
    test = ctx.dimension_test(index)
    if test is None or test.p_value <= ALPHA_DIMENSION:
        return []
    g, column = block.group, block.columns[0]
    ed = ctx.editor
    remedies = [ed.drop_term(block, f"the data show no evidence of variation between levels of {g}"),
                ed.penalised("keeps the term with its variance estimated away from zero", block.term.text)]
    return [Finding(
        "weak_variance", "info", (variance_name(g, column),), _evidence(block, test, ctx, index),
        f"Removing {block.term.text} raises the criterion by only {test.statistic:.3g} (boundary-corrected "
        f"p = {test.p_value:.2g}): the data give little evidence that {column} varies between levels of {g}. "
        "The term is identifiable; keep it if the design requires it (e.g. repeated measures on the same units).",
        tuple(remedies), title=f"weak evidence for the variance of {variance_name(g, column)} (p = {test.p_value:.2g})")]


def _slopes(ctx: Context, index: int, block: ReBlock) -> list[Finding]:
    out = []
    g, cols = block.group, block.columns
    ed = ctx.editor
    for j, column in enumerate(cols):
        if column == "(Intercept)":
            continue
        test = ctx.effect_test(index, j)
        if test is None or test.p_value <= ALPHA_DIMENSION:
            continue
        params = [variance_name(g, column)] + [correlation_name(g, cols[min(a, j)], cols[max(a, j)])
                                               for a in range(block.k) if a != j]
        candidates: list[Remedy | None] = [
            ed.drop_slope(block, column, f"the data show no evidence that the slope of {column} varies "
                                         f"between levels of {g}"),
            ed.intercept_only(block, f"keeps only the between-{g} variation of the intercept"),
            ed.uncorrelated(block, "keeps the slope variance but drops the correlations"),
            ed.penalised("keeps the structure with weakly informative priors on the covariance", block.term.text),
        ]
        out.append(Finding(
            "unsupported_slope", "warning", tuple(params), _evidence(block, test, ctx, index),
            f"Removing the random slope of {column} from {block.term.text} (its variance and its "
            f"covariances) raises the criterion by only {test.statistic:.3g} (boundary-corrected p = "
            f"{test.p_value:.2g}): the data give no evidence that the slope of {column} varies between levels "
            f"of {g}. Its variance and {block.k - 1} covariance{'s' if block.k > 2 else ''} are parameters the "
            "data do not support: their estimates are mostly noise, and such fits are often singular or "
            "unstable (Bates et al. 2015; Matuschek et al. 2017).",
            ranked(candidates), title=f"no evidence for a random slope of {column} by {g} (p = {test.p_value:.2g})"))
    return out


def _dimension(ctx: Context, index: int, block: ReBlock) -> list[Finding]:
    test = ctx.dimension_test(index)
    if test is None or test.p_value <= ALPHA_DIMENSION:
        return []
    g, cols = block.group, block.columns
    last = cols[-1]
    params = [correlation_name(g, cols[a], cols[b]) for a in range(block.k) for b in range(a + 1, block.k)]
    params.append(variance_name(g, last))
    ed = ctx.editor
    candidates: list[Remedy | None] = [
        ed.uncorrelated(block, "drops the correlations, the parameters least supported by the data"),
        ed.intercept_only(block, f"keeps only the between-{g} variation of the intercept"),
        ed.penalised("keeps the structure with weakly informative priors on the covariance", block.term.text),
    ]
    return [Finding(
        "unsupported_dimension", "warning", tuple(params), _evidence(block, test, ctx, index),
        f"Restricting the covariance of {block.term.text} to {block.k - 1} dimension"
        f"{'s' if block.k > 2 else ''} raises the criterion by only {test.statistic:.3g} "
        f"(boundary-corrected p = {test.p_value:.2g}): the data do not support all {block.k} dimensions. "
        "The model is over-parameterised: the correlation and the weakest variance are poorly determined, "
        "which is what makes such fits singular or unstable (Bates et al. 2015).",
        ranked(candidates),
        title=f"{block.term.text}: the data do not support all {block.k} dimensions (p = {test.p_value:.2g})")]


@register("redundancy", order=3)
def check_redundancy(ctx: Context) -> list[Finding]:
    """Likelihood-ratio tests of every random slope and every term's weakest dimension (non-singular terms)."""
    info = ctx.information
    if ctx.fit is None or info is None:
        return []
    out = []
    unidentified = {n for c in info.summary.near_null for n, v in c.loadings.items() if abs(v) >= 0.1}
    for term in info.terms:
        block = ctx.design.blocks[term.block]
        if term.singular or any(n.startswith(f"{block.group}: ") for n in unidentified):
            continue
        if block.k == 1:
            out += _scalar(ctx, term.block, block)
            continue
        slopes = _slopes(ctx, term.block, block)
        out += slopes or _dimension(ctx, term.block, block)
    return out
