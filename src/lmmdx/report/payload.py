"""Dictionaries that are exactly the ``--json`` output."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["clean", "fit_payload"]


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
                "method": fit.optimizer.algorithm,
                "status": fit.optimizer.status,
                "evaluations": fit.optimizer.nevals,
            },
        }
    )
