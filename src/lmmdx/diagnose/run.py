"""Run the registered checks: :class:`Fit` (or a design that cannot be fitted) → :class:`Diagnosis`."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..design import Design
from ..design.exact import exact_fit_message
from ..errors import FitError
from ..fitting import fit_design
from ..result import Fit
from .checks import ordered
from .checks.saturation import exact_share
from .context import Context
from .finding import Diagnosis, Finding, severity_rank
from .verdict import verdict

__all__ = ["diagnose", "diagnose_design"]


def _run(ctx: Context, started: float) -> Diagnosis:
    findings: list[tuple[int, int, Finding]] = []
    for position, (name, check) in enumerate(ordered()):
        for finding in check(ctx):
            findings.append((-severity_rank(finding.severity), position, replace(finding, check=name)))
    findings.sort(key=lambda item: item[:2])
    ordered_findings = tuple(f for _, _, f in findings)
    agree = ctx.agreement
    status, text = verdict(ordered_findings, len(agree.agreeing), ctx.fit is not None, ctx.fit_error)
    info = ctx.information
    edf = ctx.effective_df
    fit = ctx.fit
    return Diagnosis(
        formula=ctx.design.formula.text,
        reml=ctx.reml,
        nobs=ctx.design.nobs,
        verdict=text,
        status=status,
        findings=ordered_findings,
        variance_components=info.components if info is not None else (),
        support=ctx.support,
        information=info.summary if info is not None else None,
        runs=ctx.runs,
        objective_spread=agree.objective_spread,
        estimate_spread=agree.estimate_spread,
        effective_df=edf,
        residual_df=None if edf is None or fit is None else fit.nobs - edf,
        seconds=time.perf_counter() - started,
        pca=ctx.pca,
    )


def diagnose(fit: Fit, optimizers: tuple[str, ...] | None = None, parallel: bool | None = None) -> Diagnosis:
    """Diagnose a fit: convergence, boundary, identifiability, saturation, data support, fixed effects.

    Parameters
    ----------
    fit : Fit
    optimizers : tuple of str, optional
        Optimisers for the agreement check (default: every registered one; ``()`` skips it).
    parallel : bool, optional
        Run the refits in threads (default: when one criterion evaluation is expensive enough).

    Returns
    -------
    Diagnosis
    """
    started = time.perf_counter()
    ctx = Context(fit.model.design, fit, fit.reml, None, optimizers, parallel)
    return _run(ctx, started)


def diagnose_design(design: Design, reml: bool = True, optimizers: tuple[str, ...] | None = None,
                    parallel: bool | None = None) -> Diagnosis:
    """Fit a design and diagnose it; when it cannot be fitted, diagnose the design alone.

    Build the design with ``check_identifiable=False`` to have models that lme4
    refuses (one level, one observation per level) explained rather than rejected.
    """
    started = time.perf_counter()
    share = exact_share(design)
    fit: Fit | None = None
    if share is not None:  # no optimum exists: σ → 0 without end
        error: str | None = exact_fit_message(design.formula.response_label, share)
    else:
        try:
            with np.errstate(all="ignore"):
                fit = fit_design(design, reml=reml)
            error = None
        except (FitError, np.linalg.LinAlgError) as exc:
            fit, error = None, str(exc)
    ctx = Context(design, fit, reml, error, optimizers, parallel)
    with np.errstate(all="ignore"):
        return _run(ctx, started)
