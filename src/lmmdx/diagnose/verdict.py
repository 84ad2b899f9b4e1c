"""The verdict: one status and a sentence or two that put the worst problem first."""

from __future__ import annotations

from .finding import Finding, severity_rank

__all__ = ["STATUSES", "verdict"]

#: Statuses from best to worst, with what they mean.
STATUSES = {
    "ok": "no problem found",
    "caution": "usable, with caveats that do not concern the random-effects structure",
    "not_converged": "the optimum is not established",
    "over_parameterised": "the random-effects structure asks more than the data can inform",
    "not_identified": "some parameters are not identifiable from these data",
    "fit_failed": "the model could not be fitted",
}

_CONVERGENCE = {"optimizer_not_converged", "gradient_not_small", "hessian_not_positive_definite",
                "boundary_not_optimal", "optimum_not_reached", "flat_ridge"}
_STRUCTURE = {"singular_fit", "unsupported_dimension", "information_ill_conditioned", "information_singular",
              "residual_not_identifiable", "residual_variance_collapsed", "response_fitted_exactly", "few_residual_df", "slope_confounded",
              "too_few_levels"}


def _status(findings: tuple[Finding, ...], fitted: bool) -> str:
    if not fitted:
        return "fit_failed"
    serious = [f for f in findings if severity_rank(f.severity) >= 1]
    if any(f.severity == "error" for f in serious):
        return "not_identified"
    if any(f.code in _STRUCTURE for f in serious):
        return "over_parameterised"
    if any(f.code in _CONVERGENCE for f in serious):
        return "not_converged"
    return "caution" if serious else "ok"


def _first_remedy(findings: list[Finding]) -> str:
    for f in findings:
        for r in f.remedies:
            if r.formula:
                return f" First remedy to try: {r.formula} ({r.reason})."
    return ""


def verdict(findings: tuple[Finding, ...], agreeing_runs: int, fitted: bool,
            fit_error: str | None = None) -> tuple[str, str]:
    """The status (a key of :data:`STATUSES`) and the verdict text.

    Parameters
    ----------
    findings : tuple of Finding
        Worst first.
    agreeing_runs : int
        Optimiser runs that reached the best criterion.
    fitted : bool
    fit_error : str, optional
        Why the fit failed.
    """
    status = _status(findings, fitted)
    serious = [f for f in findings if severity_rank(f.severity) >= 1]
    titles = "; ".join(dict.fromkeys(f.title for f in serious if f.title))
    if status == "fit_failed":
        text = f"This model could not be fitted to these data ({fit_error})."
        if titles:
            text += f" The design explains why: {titles}."
        return status, text + _first_remedy(serious)
    if status == "not_identified":
        errors = [f for f in serious if f.severity == "error"]
        text = "This model is not identifiable from these data: " + "; ".join(
            dict.fromkeys(f.title for f in errors)) + "."
        return status, text + _first_remedy(errors)
    if status == "over_parameterised":
        text = f"This model is over-parameterised for these data: {titles}."
        return status, text + _first_remedy(serious)
    if status == "not_converged":
        return status, f"The optimum of this model is not established: {titles}." + _first_remedy(serious)
    confirm = f"the optimum is confirmed by {agreeing_runs} optimiser runs and " if agreeing_runs > 1 else ""
    identified = "every variance-covariance parameter is identifiable from these data"
    if status == "caution":
        return status, f"No problem with the random effects: {confirm}{identified}. Caveats: {titles}."
    notes = "; ".join(dict.fromkeys(f.title for f in findings if f.title))
    return status, f"No problem found: {confirm}{identified}." + (f" Notes: {notes}." if notes else "")
