"""The findings recorded for every fit of a batch: boundary, non-convergence, rank deficiency.

These are the checks a batch needs to aggregate reasons; the diagnosis module
explains a single fit in depth. Each finding names its parameters in words
(``"slope SD of x by g"``), so that counts over thousands of fits read as
sentences.
"""

from __future__ import annotations

import numpy as np

from ..boundary import BOUNDARY_TOLERANCE, correlations
from ..finding import Finding, Remedy, coefficient_name, correlation_name, sd_name
from ..result import Fit

__all__ = ["BOUNDARY", "NONCONVERGENCE", "RANK_DEFICIENT", "basic_findings", "boundary_parameters"]

BOUNDARY = "boundary"
NONCONVERGENCE = "nonconvergence"
RANK_DEFICIENT = "rank_deficient"


def boundary_parameters(fit: Fit) -> tuple[str, ...]:
    """The variance-covariance parameters at the boundary, in words.

    Which terms are singular and which of their parameters are on the boundary is
    :attr:`Fit.boundary` (:mod:`lmmdx.boundary`): an effect whose variance is zero is
    named as a zero SD; otherwise the covariance is rank deficient without a zero SD, and
    the most correlated pair is named (correlation ±1).
    """
    user = fit.model.factors_to_user(fit.theta_internal)
    out: list[str] = []
    for term in fit.boundary:
        if not term.singular:
            continue
        block = fit.model.design.blocks[term.block]
        out.extend(sd_name(block.group, block.columns[j]) for j in term.zero_effects)
        if term.zero_effects or block.k < 2:
            continue
        _, corr = correlations(user[term.block] @ user[term.block].T)
        corr = np.abs(corr)
        np.fill_diagonal(corr, -1.0)
        i, j = np.unravel_index(int(np.nanargmax(corr)), corr.shape)
        first, second = sorted((int(i), int(j)))
        out.append(correlation_name(block.group, block.columns[first], block.columns[second]))
    return tuple(out)


def basic_findings(fit: Fit) -> tuple[Finding, ...]:
    """Boundary, non-convergence and rank-deficiency findings of one fit (possibly none)."""
    findings: list[Finding] = []
    if fit.singular:
        params = boundary_parameters(fit)
        findings.append(Finding(
            BOUNDARY, "warning", params,
            {"theta": [float(v) for v in fit.theta_internal], "tolerance": BOUNDARY_TOLERANCE},
            f"Boundary (singular) fit: the data do not support {', '.join(params) or 'every variance component'}.",
            (Remedy("drop_term", None, "drop the random-effects terms named here, or their correlation"),),
        ))
    if not fit.converged:
        trace = fit.optimizer
        findings.append(Finding(
            NONCONVERGENCE, "warning", (),
            {"optimizer": trace.optimizer, "status": trace.status, "evaluations": trace.nevals},
            f"The optimizer {trace.optimizer} stopped without converging ({trace.status}).",
            (Remedy("other_optimizer", None, "refit with another optimizer"),),
        ))
    if fit.dropped_fixed:
        findings.append(Finding(
            RANK_DEFICIENT, "info", tuple(coefficient_name(n) for n in fit.dropped_fixed),
            {"dropped": list(fit.dropped_fixed)},
            "The fixed-effects matrix is rank deficient: aliased columns were dropped.",
            (Remedy("drop_fixed", None, "remove the aliased terms from the formula"),),
        ))
    return tuple(findings)
