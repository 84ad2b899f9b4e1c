"""Dictionaries that are exactly the ``--json`` output."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..diagnose.finding import Diagnosis
    from ..finding import Finding
    from ..inference.anova import AnovaTable
    from ..inference.ddf import CoefTest
    from ..inference.honesty import WaldCheck
    from ..inference.intervals import Intervals
    from ..inference.lrt import Comparison
    from ..result import Fit

__all__ = ["anova_payload", "certificate_payload", "clean", "comparison_payload", "diagnosis_payload", "fit_payload",
           "intervals_payload"]


def clean(value: Any) -> Any:
    """Make ``value`` JSON-safe: numpy scalars to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return clean(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _fixed_effects(fit: Fit, tests: Sequence[CoefTest] | None, check: WaldCheck | None) -> list[dict[str, Any]]:
    out = [
        {"term": fe.term, "estimate": fe.estimate, "std_error": fe.std_error, "t_value": fe.t_value}
        for fe in fit.fixed_effects
    ]
    for row, test in zip(out, tests or (), strict=False):
        row.update(std_error=test.std_error, t_value=test.t_value, df=test.df, p_value=test.p_value,
                   wald_reliable=not (check is not None and check.broken))
    return out


def intervals_payload(intervals: Intervals) -> list[dict[str, Any]]:
    """The ``intervals`` list of ``lmmdx fit --ci ... --json``."""
    return clean([
        {"parameter": i.parameter, "estimate": i.estimate, "lower": i.lower, "upper": i.upper, "method": i.method,
         "level": intervals.level, "reliable": i.reliable, "note": i.note}
        for i in intervals.intervals
    ])


def anova_payload(table: AnovaTable) -> dict[str, Any]:
    """An ANOVA table as JSON."""
    return clean({
        "type": table.type,
        "ddf": table.ddf,
        "terms": [
            {"term": r.term, "sum_sq": r.sum_sq, "mean_sq": r.mean_sq, "num_df": r.num_df, "den_df": r.den_df,
             "f_value": r.f_value, "p_value": r.p_value}
            for r in table.rows
        ],
    })


def comparison_payload(result: Comparison) -> dict[str, Any]:
    """The ``lmmdx compare --json`` object."""
    def model(row: Any) -> dict[str, Any]:
        return {"formula": row.formula, "npar": row.npar, "aic": row.aic, "bic": row.bic, "loglik": row.loglik,
                "objective": row.objective}

    return clean({
        "small": model(result.small),
        "large": model(result.large),
        "criterion": result.criterion,
        "refitted_ml": result.refitted,
        "statistic": result.statistic,
        "df": result.df,
        "p_value": result.p_value,
        "p_value_boundary": result.p_value_boundary,
        "mixture": [{"weight": w, "df": d} for w, d in result.mixture],
        "boundary": list(result.boundary),
        "p_value_bootstrap": result.p_value_bootstrap,
        "bootstrap_samples": result.nsim,
        "notes": list(result.notes),
    })


def fit_payload(
    fit: Fit,
    tests: Sequence[CoefTest] | None = None,
    check: WaldCheck | None = None,
    intervals: Intervals | None = None,
) -> dict[str, Any]:
    """The fit as the ``lmmdx fit --json`` object (with df and p-values when ``tests`` are given,
    the Wald check, and the ``--ci`` intervals)."""
    payload = _base(fit, tests, check)
    if check is not None:
        payload["inference"] = clean({"wald_reliable": not check.broken, "boundary": list(check.boundary),
                                      "near_singular_information": check.near_singular, "message": check.message})
    if intervals is not None:
        payload["intervals"] = intervals_payload(intervals)
        payload["interval_notes"] = list(intervals.notes)
    return payload


def _base(fit: Fit, tests: Sequence[CoefTest] | None, check: WaldCheck | None) -> dict[str, Any]:
    return clean(
        {
            "formula": fit.formula,
            "reml": fit.reml,
            "nobs": fit.nobs,
            "ngroups": dict(fit.ngroups),
            "objective": fit.objective,
            "loglik": fit.loglik,
            "aic": fit.aic,
            "bic": fit.bic,
            "deviance": fit.deviance,
            "sigma": fit.sigma,
            "theta": fit.theta,
            "theta_names": list(fit.theta_names),
            "fixed_effects": _fixed_effects(fit, tests, check),
            "random_effects": [
                {"group": c.group, "term": c.term, "variance": c.variance, "sd": c.sd} for c in fit.random_effects
            ],
            "correlations": [
                {"group": c.group, "term1": c.term1, "term2": c.term2, "corr": c.corr} for c in fit.correlations
            ],
            "converged": fit.converged,
            "singular": fit.singular,
            "warnings": list(fit.warnings),
            "dropped_fixed": list(fit.dropped_fixed),
            "n_missing": fit.n_missing,
            "optimizer": {
                "name": fit.optimizer.optimizer,
                "method": fit.optimizer.algorithm,
                "status": fit.optimizer.status,
                "evaluations": fit.optimizer.nevals,
            },
            "certificate": certificate_payload(fit),
        }
    )


def certificate_payload(fit: Fit) -> dict[str, Any] | None:
    """The certificate of the fit's optimum (θ elements by lme4's names), or None."""
    cert = fit.optimizer.certificate
    if cert is None:
        return None
    names = fit.theta_names
    return clean({
        "holds": cert.holds,
        "newton_decrement": cert.decrement,
        "tolerance": cert.tolerance,
        "projected_gradient": cert.projected_gradient,
        "min_curvature": cert.min_curvature,
        "held": [names[i] for i in cert.held],
        "snapped": [names[i] for i in cert.snapped],
        "released": [names[i] for i in cert.released],
        "restarts": list(cert.restarts),
        "newton_steps": cert.steps,
        "hessians": cert.hessians,
        "evaluations": cert.evaluations,
        "note": cert.note,
    })


def _finding(f: Finding) -> dict[str, Any]:
    return f.to_dict()


def diagnosis_payload(d: Diagnosis) -> dict[str, Any]:
    """The diagnosis as the ``lmmdx diagnose --json`` object."""
    info = d.information
    return clean({
        "formula": d.formula,
        "reml": d.reml,
        "nobs": d.nobs,
        "status": d.status,
        "severity": d.severity,
        "verdict": d.verdict,
        "findings": [_finding(f) for f in d.findings],
        "variance_components": [
            {"parameter": c.parameter, "kind": c.kind, "estimate": c.estimate, "sd_or_corr": c.scale_value,
             "std_error": c.std_error, "z_value": c.z_value, "status": c.status}
            for c in d.variance_components
        ],
        "information": None if info is None else {
            "parameters": list(info.parameters),
            "boundary": list(info.boundary),
            "eigenvalues": list(info.eigenvalues),
            "condition_number": info.condition,
            "positive_definite": info.positive_definite,
            "near_null": [{"eigenvalue": c.eigenvalue, "loadings": dict(c.loadings), "description": c.describe()}
                          for c in info.near_null],
        },
        "support": [
            {"factor": s.factor, "levels": s.levels,
             "obs_per_level": {"min": s.obs_min, "median": s.obs_median, "max": s.obs_max},
             "n_params": s.n_params, "terms": list(s.terms), "saturated_share": s.saturated_share,
             "rating": s.rating, "reasons": list(s.reasons),
             "slopes": [{"column": sl.column, "within_share": sl.within_share, "mean_over_sd": sl.origin_ratio,
                         "corr": sl.corr_user, "corr_centred": sl.corr_centred} for sl in s.slopes]}
            for s in d.support
        ],
        "optimizer_runs": [
            {"optimizer": r.optimizer, "start": r.start, "objective": r.objective, "converged": r.converged,
             "evaluations": r.nevals, "estimates": dict(r.estimates)}
            for r in d.runs
        ],
        "objective_spread": d.objective_spread,
        "estimate_spread": dict(d.estimate_spread),
        "effective_df": d.effective_df,
        "residual_df": d.residual_df,
        "pca": [{"term": c.term, "sdev": list(c.sdev), "variance_shares": list(c.variance_shares),
                 "correlation_shares": list(c.proportions), "supported": c.supported} for c in d.pca],
        "seconds": d.seconds,
    })
