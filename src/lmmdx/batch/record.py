"""One row of a batch's output table: a fit's estimates and findings, or its one-line error.

Column names: ``beta:<term>``, ``se:<term>``, ``sd:<group>:<column>``,
``corr:<group>:<column>:<column>``, ``sigma``; plus ``nobs``, ``n_dropped``,
``objective``, ``converged``, ``singular``, ``codes`` (finding codes joined by
``;``), ``findings`` (``code: parameters`` joined by ``; ``) and ``error``.
Rows hold plain Python values so they cross process boundaries cheaply.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..finding import Finding
from ..result import Fit
from .codes import basic_findings

__all__ = ["STATUS_COLUMNS", "error_row", "findings_text", "fit_row"]

#: Columns every row has, in this order, after the key column.
STATUS_COLUMNS = ("nobs", "n_dropped", "objective", "converged", "singular", "codes", "findings", "error")


def findings_text(findings: tuple[Finding, ...]) -> str:
    """``"boundary: slope SD of x by g; nonconvergence"``."""
    return "; ".join(f"{f.code}: {', '.join(f.parameters)}" if f.parameters else f.code for f in findings)


def fit_row(fit: Fit, n_dropped: int) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    """The row of a successful fit, and its findings.

    Parameters
    ----------
    fit : Fit
    n_dropped : int
        Rows left out of this fit for missing values (response or covariates).
    """
    findings = basic_findings(fit)
    row: dict[str, Any] = {
        "nobs": fit.nobs,
        "n_dropped": int(n_dropped),
        "objective": float(fit.objective),
        "converged": bool(fit.converged),
        "singular": bool(fit.singular),
        "codes": ";".join(dict.fromkeys(f.code for f in findings)),
        "findings": findings_text(findings),
        "error": None,
    }
    for name, beta, se in zip(fit.fixed_names, fit.beta, np.sqrt(np.diag(fit.vcov_beta)), strict=True):
        row[f"beta:{name}"] = float(beta)
        row[f"se:{name}"] = float(se)
    for comp in fit.random_effects:
        row["sigma" if comp.term is None else f"sd:{comp.group}:{comp.term}"] = float(comp.sd)
    for corr in fit.correlations:
        row[f"corr:{corr.group}:{corr.term1}:{corr.term2}"] = float(corr.corr)
    return row, findings


def error_row(message: str, n_dropped: int = 0, nobs: int | None = None) -> dict[str, Any]:
    """The row of a fit that raised an error (its one-line message)."""
    return {
        "nobs": nobs,
        "n_dropped": int(n_dropped),
        "objective": None,
        "converged": None,
        "singular": None,
        "codes": "",
        "findings": "",
        "error": message,
    }
