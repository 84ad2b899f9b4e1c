"""Agreement of several optimisers and starting points: a better optimum elsewhere, or a flat ridge."""

from __future__ import annotations

import numpy as np

from ..context import Context
from ..finding import Finding, OptimizerRun
from .registry import register

__all__ = ["OBJECTIVE_AGREE", "RIDGE_BETA_SE", "RIDGE_RELATIVE", "check_optimizers"]

#: Runs whose criteria differ by less than this agree on the optimum (criterion units,
#: −2 log L: a likelihood-ratio statistic of 0.001 changes no test or interval).
OBJECTIVE_AGREE = 1e-3
#: Agreeing runs whose relative covariances (internal scale, in units of σ²) differ by more
#: than this share of their size plus 1e-3 (or β by more than RIDGE_BETA_SE standard errors)
#: sit on a flat ridge.
RIDGE_RELATIVE = 0.01
#: See RIDGE_RELATIVE.
RIDGE_BETA_SE = 0.1


def _psi(ctx: Context, run: OptimizerRun) -> np.ndarray:
    layout = ctx.fit.model.deviance.layout  # type: ignore[union-attr]
    factors = layout.factors(np.asarray(run.theta_internal))
    return np.concatenate([(t @ t.T)[np.tril_indices(t.shape[0])] for t in factors])


def _ridge(ctx: Context, agreeing: list[OptimizerRun]) -> dict[str, float]:
    """Parameters that differ materially among agreeing runs → their spread on the user's scale."""
    fit = ctx.fit
    assert fit is not None
    psis = np.array([_psi(ctx, r) for r in agreeing])
    size = np.max(np.abs(psis), axis=0)
    spread = np.ptp(psis, axis=0)
    material_cov = bool(np.any(spread > RIDGE_RELATIVE * size + 1e-3))
    se = dict(zip(fit.fixed_names, fit.std_errors, strict=True))
    out: dict[str, float] = {}
    names = list(agreeing[0].estimates)
    for name in names:
        values = np.array([r.estimates.get(name, np.nan) for r in agreeing])
        if not np.all(np.isfinite(values)):
            continue
        width = float(np.ptp(values))
        if name.startswith("beta: "):
            if width > RIDGE_BETA_SE * se[name[6:]]:
                out[name] = width
        elif material_cov and width > RIDGE_RELATIVE * float(np.max(np.abs(values))):
            out[name] = width
    return out


@register("optimizers", order=6)
def check_optimizers(ctx: Context) -> list[Finding]:
    """Compare the fit with refits by other optimisers and from other starting points."""
    runs = ctx.runs
    if ctx.fit is None or len(runs) < 2:
        return []
    own = runs[0]
    ok = [r for r in runs if r.objective is not None and np.isfinite(r.objective)]
    best = min(ok, key=lambda r: r.objective)  # type: ignore[arg-type, return-value]
    best_value = float(best.objective)  # type: ignore[arg-type]
    objectives = {f"{r.optimizer}/{r.start}": r.objective for r in runs}
    evidence_base = {"runs": len(runs), "objectives": objectives,
                     "objective_spread": float(max(r.objective for r in ok) - best_value)}  # type: ignore[type-var]
    out = []
    own_value = float(own.objective)  # type: ignore[arg-type]
    if own_value - best_value > OBJECTIVE_AGREE:
        out.append(Finding(
            "optimum_not_reached", "warning", tuple(own.estimates),
            {**evidence_base, "improvement": own_value - best_value,
             "better_run": f"{best.optimizer}/{best.start}", "better_estimates": dict(best.estimates)},
            f"The optimiser {best.optimizer} (start: {best.start}) found a criterion lower by "
            f"{own_value - best_value:.4g} than the reported fit: the reported estimates are not at the optimum.",
            title=f"another optimiser reaches a better optimum (by {own_value - best_value:.3g})",
        ))
    agreeing = [r for r in ok if float(r.objective) - best_value <= OBJECTIVE_AGREE]  # type: ignore[arg-type]
    if len(agreeing) >= 2:
        ridge = _ridge(ctx, agreeing)
        if ridge:
            out.append(Finding(
                "flat_ridge", "warning", tuple(ridge),
                {**evidence_base, "spread": ridge, "agreeing_runs": len(agreeing)},
                f"{len(agreeing)} runs reach the same criterion (within {OBJECTIVE_AGREE:g}) at materially "
                "different estimates of " + ", ".join(ridge) + ": the criterion is flat along a ridge, so "
                "the data do not determine these parameters and the reported values depend on the optimiser.",
                title="estimates differ at the same optimum (flat ridge)",
            ))
    short = [r for r in runs if r.objective is None or float(r.objective) - best_value > OBJECTIVE_AGREE]
    if short and not out:
        out.append(Finding(
            "optimizers_stopped_short", "info", (),
            {**evidence_base, "stopped_short": [f"{r.optimizer}/{r.start}" for r in short]},
            "Some refits stopped above the best criterion; the reported fit is at the best optimum found, "
            "so this concerns those optimisers, not the model.",
            title=f"{len(short)} of {len(runs)} refits stopped short of the optimum",
        ))
    return out
