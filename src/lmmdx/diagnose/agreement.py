"""Refit with every registered optimiser and several starting points (like lme4's ``allFit``).

Each refit is an independent optimisation of the same criterion. Whether to run
them in parallel is decided at run time from the measured cost of one criterion
evaluation (``bench/diagnose_speed.py``, 2 shared cores). Below about 0.1 ms an
evaluation is Python-bound and holds the GIL: threads do not help (seed example,
idle machine: 0.022 s serial, 0.023 s in threads) and a process pool costs more to
start than the refits take (0.051 s). Above it the LAPACK work releases the GIL and
threads pay (2,000 × 50 design on a loaded machine, 0.25 ms per evaluation: 0.15 s
in threads, 0.18–0.25 s serial; InstEval: 13.1 s instead of 18.6 s for two refits).
Refits of expensive models start next to the optimum with a budget of evaluations
(:data:`BUDGET_SECONDS`).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..boundary import correlation
from ..engine import OPTIMIZERS, Tolerances
from ..errors import LmmdxError
from ..fitting import fit_model
from ..result import Fit
from .parameters import VarCovMap
from .tables import OptimizerRun

__all__ = [
    "BUDGET_SECONDS",
    "OBJECTIVE_AGREE",
    "START_SCALES",
    "THREAD_MIN_EVAL_SECONDS",
    "Agreement",
    "agreement",
    "optimizer_runs",
]

#: Runs whose criteria differ by less than this agree on the optimum (criterion units,
#: −2 log L: a likelihood-ratio statistic of 0.001 changes no test or interval).
OBJECTIVE_AGREE = 1e-3

#: Refits run in threads when one criterion evaluation costs at least this.
THREAD_MIN_EVAL_SECONDS = 1e-4
#: Multipliers of lme4's start (identity factors) for the extra starting points.
START_SCALES = {"small": 0.1, "large": 3.0}
#: Time budget of the refits: each may use as many evaluations as fit in it (on the
#: available cores). When the refits from lme4's start would take longer (estimated from
#: 200 evaluations each), the alternative optimisers start next to the optimum instead,
#: with lme4's tolerances (1e-8).
BUDGET_SECONDS = 20.0
#: ... but at least this many evaluations each.
_MIN_CAPPED_EVALS = 50
#: Evaluations per refit assumed by the estimate.
_EVALS_PER_RUN = 200


@dataclass(frozen=True, slots=True)
class _Job:
    optimizer: str
    start_name: str
    start: np.ndarray
    tolerances: Tolerances | None = None


def estimates(fit: Fit, varcov: VarCovMap) -> dict[str, float]:
    """Standard deviations, correlations, σ and β of a fit, keyed by parameter name."""
    phi = varcov.from_fit(fit.theta_internal, fit.sigma)
    mats, _ = varcov.covariances(phi)
    out: dict[str, float] = {}
    for spec, value in zip(varcov.specs, phi, strict=True):
        if spec.kind == "covariance":
            out[spec.name] = correlation(mats[spec.block], spec.i, spec.j)
        else:
            out[spec.name] = float(np.sqrt(max(value, 0.0)))
    for name, b in zip(fit.fixed_names, fit.beta, strict=True):
        out[f"beta: {name}"] = float(b)
    return out


def _eval_seconds(fit: Fit) -> float:
    theta = fit.theta_internal
    start = time.perf_counter()
    count = 0
    while count < 3 or (time.perf_counter() - start < 0.01 and count < 50):
        fit.model.deviance(theta, fit.reml)
        count += 1
    return (time.perf_counter() - start) / count


def _cap(cost: float, jobs: int) -> int:
    """Evaluations per refit so that ``jobs`` refits fit in the budget on the available cores."""
    workers = max(min(jobs, os.cpu_count() or 1), 1)
    return max(_MIN_CAPPED_EVALS, int(BUDGET_SECONDS * workers / (max(cost, 1e-9) * max(jobs, 1))))


def _jobs(fit: Fit, optimizers: tuple[str, ...], cost: float) -> list[_Job]:
    layout = fit.model.deviance.layout
    lme4_start = layout.start()
    own = fit.optimizer.optimizer
    others = [name for name in optimizers if name != own]
    starts = [(name, "lme4", lme4_start) for name in others]
    starts += [(own, label, scale * lme4_start) for label, scale in START_SCALES.items()]
    if cost * _EVALS_PER_RUN * len(starts) <= BUDGET_SECONDS:
        tolerances = Tolerances(maxeval=_cap(cost, len(starts)))
        return [_Job(name, label, start, tolerances) for name, label, start in starts]
    near = np.where(layout.diagonal_mask(), np.maximum(fit.theta_internal, 0.01) * 1.1, fit.theta_internal)
    tolerances = Tolerances(ftol_abs=1e-8, xtol_abs=1e-8, maxeval=_cap(cost, len(others)))
    return [_Job(name, "near_optimum", near, tolerances) for name in others]


def optimizer_runs(fit: Fit, optimizers: tuple[str, ...] | None = None,
                   parallel: bool | None = None) -> tuple[OptimizerRun, ...]:
    """The fit itself and its refits, each with objective and estimates on the user's scale.

    Parameters
    ----------
    fit : Fit
    optimizers : tuple of str, optional
        Registered optimisers (default: all of :data:`lmmdx.engine.OPTIMIZERS`).
    parallel : bool, optional
        Force threads on or off (default: decided from the cost of one evaluation).
    """
    names = tuple(OPTIMIZERS) if optimizers is None else optimizers
    varcov = VarCovMap(fit.model, fit.reml)
    cost = _eval_seconds(fit)
    jobs = _jobs(fit, names, cost)
    own = OptimizerRun(fit.optimizer.optimizer, "fit", fit.objective, fit.converged, fit.optimizer.nevals,
                       estimates(fit, varcov), tuple(fit.theta_internal))

    def run(job: _Job) -> OptimizerRun:
        try:
            refit = fit_model(fit.model, fit.reml, optimizer=job.optimizer, start=job.start,
                              tolerances=job.tolerances)
        except (LmmdxError, np.linalg.LinAlgError, ValueError):
            return OptimizerRun(job.optimizer, job.start_name, None, False, 0, {})
        return OptimizerRun(job.optimizer, job.start_name, refit.objective, refit.converged,
                            refit.optimizer.nevals, estimates(refit, varcov), tuple(refit.theta_internal))

    use_threads = cost >= THREAD_MIN_EVAL_SECONDS if parallel is None else parallel
    workers = min(len(jobs), os.cpu_count() or 1)
    if use_threads and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(run, jobs))
    else:
        results = [run(job) for job in jobs]
    return (own, *results)


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far the runs agree.

    Attributes
    ----------
    best : OptimizerRun or None
        The run with the lowest criterion.
    agreeing : tuple of OptimizerRun
        Runs within :data:`OBJECTIVE_AGREE` of the best.
    stopped_short : tuple of OptimizerRun
        The others (including failed refits).
    objective_spread : float or None
        Largest minus smallest criterion over the runs that returned one.
    estimate_spread : dict of str to float
        Largest minus smallest value of each estimate over the agreeing runs.
    """

    best: OptimizerRun | None
    agreeing: tuple[OptimizerRun, ...]
    stopped_short: tuple[OptimizerRun, ...]
    objective_spread: float | None
    estimate_spread: dict[str, float]


def agreement(runs: tuple[OptimizerRun, ...]) -> Agreement:
    """Group the runs by whether they reach the best criterion, and measure their spreads."""
    finished = [r for r in runs if r.objective is not None and np.isfinite(r.objective)]
    if not finished:
        return Agreement(None, (), tuple(runs), None, {})
    best = min(finished, key=lambda r: float(r.objective))  # type: ignore[arg-type]
    low = float(best.objective)  # type: ignore[arg-type]
    agreeing = tuple(r for r in finished if float(r.objective) - low <= OBJECTIVE_AGREE)  # type: ignore[arg-type]
    short = tuple(r for r in runs if r not in agreeing)
    spread = {}
    for name in agreeing[0].estimates:
        values = np.array([r.estimates.get(name, np.nan) for r in agreeing])
        if np.all(np.isfinite(values)):
            spread[name] = float(np.ptp(values))
    objective_spread = max(float(r.objective) for r in finished) - low  # type: ignore[arg-type]
    return Agreement(best, agreeing, short, objective_spread, spread)
