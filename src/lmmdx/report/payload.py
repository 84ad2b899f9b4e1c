"""Dictionaries that are exactly the ``--json`` output."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..diagnose.finding import Diagnosis, Finding
    from ..result import Fit

__all__ = ["clean", "diagnosis_payload", "fit_payload"]


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


def fit_payload(fit: Fit) -> dict[str, Any]:
    """The fit as the ``lmmdx fit --json`` object."""
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
            "fixed_effects": [
                {"term": fe.term, "estimate": fe.estimate, "std_error": fe.std_error, "t_value": fe.t_value}
                for fe in fit.fixed_effects
            ],
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
                "status": fit.optimizer.status,
                "evaluations": fit.optimizer.nevals,
            },
        }
    )


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity,
        "check": f.check,
        "title": f.title,
        "parameters": list(f.parameters),
        "evidence": dict(f.evidence),
        "explanation": f.explanation,
        "remedies": [{"action": r.action, "formula": r.formula, "reason": r.reason, "term": r.term}
                     for r in f.remedies],
    }


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
        "seconds": d.seconds,
    })
