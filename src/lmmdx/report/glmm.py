"""Text and JSON of a GLMM fit: the linear fit's keys plus family, link, nAGQ, dispersion and z tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .payload import clean, fit_payload

if TYPE_CHECKING:
    from ..inference.intervals import Intervals
    from ..result import GlmmFit

__all__ = ["glmm_payload", "glmm_summary"]


def _p_values(z: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return 2.0 * norm.sf(np.abs(z))


def glmm_payload(fit: GlmmFit, intervals: Intervals | None = None) -> dict[str, Any]:
    """The ``lmmdx fit --family ... --json`` object."""
    payload = fit_payload(fit, None, None, intervals)
    pvals = _p_values(fit.z_values)
    for row, z, pv in zip(payload["fixed_effects"], fit.z_values, pvals, strict=True):
        row["z_value"] = clean(float(z))
        row["p_value"] = clean(float(pv))
    cert = fit.derivatives
    payload.update(clean({
        "family": fit.family,
        "link": fit.link,
        "nagq": fit.nagq,
        "dispersion": fit.dispersion,
        "pearson_chi2": fit.pearson_chi2,
        "deviance_residuals": fit.deviance_residuals,
        "df_resid": fit.df_resid,
        "vcov_method": fit.vcov_method,
        "certificate": {
            "newton_decrement": cert.newton_decrement,
            "max_abs_gradient": cert.max_abs_gradient,
            "hessian_positive_definite": cert.positive_definite,
        },
    }))
    return payload


def _fmt(value: float, width: int = 10) -> str:
    return f"{value:{width}.4g}" if np.isfinite(value) else f"{'NA':>{width}}"


def glmm_summary(fit: GlmmFit) -> str:
    """A summary in the layout of lme4's ``summary(glmer(...))``."""
    method = "Laplace Approximation" if fit.nagq == 1 else f"Adaptive Gauss-Hermite Quadrature (nAGQ = {fit.nagq})"
    lines = [
        f"Generalized linear mixed model fit by maximum likelihood ({method}) ['glmerMod']",
        f" Family: {fit.family}  ( {fit.link} )",
        f"Formula: {fit.formula}",
        "",
        f"{'AIC':>10} {'BIC':>10} {'logLik':>10} {'-2logLik':>10} {'df.resid':>9}",
        f"{fit.aic:10.1f} {fit.bic:10.1f} {fit.loglik:10.1f} {fit.objective:10.1f} {fit.df_resid:9d}",
        "",
        "Random effects:",
        f" {'Groups':<12} {'Name':<14} {'Variance':>10} {'Std.Dev.':>10}",
    ]
    for c in fit.random_effects:
        lines.append(f" {c.group:<12} {c.term!s:<14} {c.variance:10.4g} {c.sd:10.4g}")
    for r in fit.correlations:
        lines.append(f" {r.group:<12} corr({r.term1}, {r.term2}) = {r.corr:.3f}")
    groups = ", ".join(f"{g}, {n}" for g, n in fit.ngroups.items())
    lines += [f"Number of obs: {fit.nobs}, groups:  {groups}", "", "Fixed effects:"]
    width = max([len(n) for n in fit.fixed_names] + [12])
    lines.append(f"{'':<{width}} {'Estimate':>10} {'Std. Error':>10} {'z value':>8} {'Pr(>|z|)':>10}")
    for name, b, se, z, p in zip(fit.fixed_names, fit.beta, fit.std_errors, fit.z_values,
                                 _p_values(fit.z_values), strict=True):
        lines.append(f"{name:<{width}} {_fmt(b)} {_fmt(se)} {z:8.3f} {p:10.3g}")
    if fit.family == "poisson":
        lines += ["", f"Dispersion (Pearson chi2 / df): {fit.dispersion:.3f}"]
    if fit.warnings:
        lines += [""] + [f"warning: {w}" for w in fit.warnings]
    return "\n".join(lines)
