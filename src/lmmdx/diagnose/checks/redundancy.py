"""Redundancy: does each random-effects term need every dimension it asks for?"""

from __future__ import annotations

from ..context import Context
from ..finding import Finding, Remedy
from .registry import register

__all__ = ["ALPHA_DIMENSION", "check_redundancy"]

#: A term's weakest dimension is unsupported when its likelihood-ratio test (boundary
#: corrected, see :mod:`lmmdx.diagnose.dimensions`) has a p-value above this.
ALPHA_DIMENSION = 0.05


@register("redundancy", order=3)
def check_redundancy(ctx: Context) -> list[Finding]:
    """Likelihood-ratio test of the weakest dimension of every term that is not singular."""
    info = ctx.information
    if ctx.fit is None or info is None:
        return []
    out = []
    unidentified = {n for c in info.summary.near_null for n, v in c.loadings.items() if abs(v) >= 0.1}
    for term in info.terms:
        if term.singular or any(n.startswith(f"{ctx.design.blocks[term.block].group}: ") for n in unidentified):
            continue
        index = term.block
        block = ctx.design.blocks[index]
        test = ctx.dimension_test(index)
        if test is None or test.p_value <= ALPHA_DIMENSION:
            continue
        g, cols = block.group, block.columns
        last = cols[-1]
        evidence = {"term": block.term.text, "lrt_statistic": test.statistic, "p_value": test.p_value,
                    "alpha": ALPHA_DIMENSION, "repca_sdev": [float(v) for v in ctx.pca[index].sdev]}
        ed = ctx.editor
        if block.k == 1:
            remedies = [ed.drop_term(block, f"the data show no evidence of variation between levels of {g}")]
            remedies.append(ed.penalised("keeps the term with its variance estimated away from zero",
                                         block.term.text))
            out.append(Finding(
                "weak_variance", "info", (f"{g}: {last}",), evidence,
                f"Removing {block.term.text} raises the criterion by only {test.statistic:.3g} "
                f"(boundary-corrected p = {test.p_value:.2g}): the data give little evidence that "
                f"{last} varies between levels of {g}. The term is identifiable; keep it if the design "
                "requires it (e.g. repeated measures on the same units).",
                tuple(remedies), title=f"weak evidence for the variance of {g}: {last} (p = {test.p_value:.2g})"))
            continue
        params = [f"{g}: corr({cols[a]}, {cols[b]})" for a in range(block.k) for b in range(a + 1, block.k)]
        params.append(f"{g}: {last}")
        candidates: list[Remedy | None] = [
            ed.uncorrelated(block, "drops the correlations, the parameters least supported by the data"),
            ed.drop_slope(block, last, f"removes the dimension of {last} the data do not support"),
            ed.intercept_only(block, f"keeps only the between-{g} variation of the intercept"),
            ed.penalised("keeps the structure with weakly informative priors on the covariance", block.term.text),
        ]
        out.append(Finding(
            "unsupported_dimension", "warning", tuple(params), evidence,
            f"Restricting the covariance of {block.term.text} to {block.k - 1} dimension"
            f"{'s' if block.k > 2 else ''} raises the criterion by only {test.statistic:.3g} "
            f"(boundary-corrected p = {test.p_value:.2g}): the data do not support all {block.k} dimensions. "
            "The model is over-parameterised: the correlation and the weakest variance are poorly determined, "
            "which is what makes such fits singular or unstable (Bates et al. 2015).",
            tuple(r for r in candidates if r is not None),
            title=f"{block.term.text}: the data do not support all {block.k} dimensions "
                  f"(p = {test.p_value:.2g})"))
    return out
