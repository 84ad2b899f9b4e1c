"""Agreement of several optimisers and starting points: a better optimum elsewhere, or a flat ridge."""

from __future__ import annotations

import numpy as np

from ..agreement import OBJECTIVE_AGREE, Agreement
from ..context import Context
from ..finding import Finding
from ..tables import OptimizerRun
from .registry import register

__all__ = ["OBJECTIVE_AGREE", "RIDGE_BETA_SE", "RIDGE_RELATIVE", "check_optimizers"]

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


def _ridge(ctx: Context, agree: Agreement) -> dict[str, float]:
    """Estimates that differ materially among the agreeing runs → their spread on the user's scale."""
    fit = ctx.fit
    assert fit is not None
    psis = np.array([_psi(ctx, r) for r in agree.agreeing])
    material_cov = bool(np.any(np.ptp(psis, axis=0) > RIDGE_RELATIVE * np.max(np.abs(psis), axis=0) + 1e-3))
    se = dict(zip(fit.fixed_names, fit.std_errors, strict=True))
    out: dict[str, float] = {}
    for name, width in agree.estimate_spread.items():
        if name.startswith("beta: "):
            if width > RIDGE_BETA_SE * se[name[6:]]:
                out[name] = width
        elif material_cov:
            size = max(abs(r.estimates[name]) for r in agree.agreeing)
            if width > RIDGE_RELATIVE * size:
                out[name] = width
    return out


@register("optimizers", order=6)
def check_optimizers(ctx: Context) -> list[Finding]:
    """Compare the fit with refits by other optimisers and from other starting points."""
    runs, agree = ctx.runs, ctx.agreement
    if ctx.fit is None or len(runs) < 2 or agree.best is None:
        return []
    own, best = runs[0], agree.best
    best_value = float(best.objective)  # type: ignore[arg-type]
    evidence_base = {"runs": len(runs), "objectives": {f"{r.optimizer}/{r.start}": r.objective for r in runs},
                     "objective_spread": agree.objective_spread, "estimate_spread": agree.estimate_spread}
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
    if len(agree.agreeing) >= 2:
        ridge = _ridge(ctx, agree)
        if ridge:
            out.append(Finding(
                "flat_ridge", "warning", tuple(ridge),
                {**evidence_base, "spread": ridge, "agreeing_runs": len(agree.agreeing)},
                f"{len(agree.agreeing)} runs reach the same criterion (within {OBJECTIVE_AGREE:g}) at materially "
                "different estimates of " + ", ".join(ridge) + ": the criterion is flat along a ridge, so "
                "the data do not determine these parameters and the reported values depend on the optimiser.",
                title="estimates differ at the same optimum (flat ridge)",
            ))
    short = agree.stopped_short
    if short and not out:
        out.append(Finding(
            "optimizers_stopped_short", "info", (),
            {**evidence_base, "stopped_short": [f"{r.optimizer}/{r.start}" for r in short]},
            "Some refits stopped above the best criterion; the reported fit is at the best optimum found, "
            "so this concerns those optimisers, not the model.",
            title=f"{len(short)} of {len(runs)} refits stopped short of the optimum",
        ))
    return out
