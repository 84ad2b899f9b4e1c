"""Parametric bootstrap: seeded, in parallel worker processes, with progress reports.

Each replicate ``i`` draws from its own generator, ``default_rng(SeedSequence(seed).spawn(n)[i])``,
so the results do not depend on the number of workers. A replicate simulates a
response from the fit (:mod:`lmmdx.simulate`), refits the same design from the
fit's θ and records the statistic; a refit that fails gives a row of NaN.
Percentile intervals are lme4's ``confint(method = "boot", boot.type = "perc")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from ..arguments import check_count, check_seed
from ..errors import LmmdxError
from ..simulate import Refitter, Simulator
from ..workers import WorkerPool, worker_count
from .intervals import Interval, Intervals
from .parameters import fit_parameters, parameters, sdcor

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["BootstrapResult", "ParameterReplicate", "bootstrap", "bootstrap_intervals", "run_replicates"]

ProgressFn = Callable[[int, int], None]
#: Replicates per task sent to a worker (progress is reported per task).
_CHUNK = 25


class Replicate(Protocol):
    """A picklable statistic of one simulated data set."""

    width: int

    def __call__(self, rng: np.random.Generator) -> np.ndarray: ...


class ParameterReplicate:
    """Simulate from a fit, refit, and return every parameter and a singular flag.

    Parameters
    ----------
    fit : Fit
    """

    def __init__(self, fit: Fit) -> None:
        self.layout = fit.model.deviance.layout
        self.refit = Refitter.from_fit(fit)
        self.simulator = Simulator.from_fit(fit)
        self.width = len(parameters(fit.model)) + 1

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        y = self.simulator.draw(rng)
        try:
            refit = self.refit(y)
        except (LmmdxError, np.linalg.LinAlgError, ValueError):
            return np.full(self.width, np.nan)
        values = sdcor(self.layout, refit.theta, refit.sigma)
        return np.concatenate([values, refit.beta, [float(refit.singular)]])


_TASK: Replicate | None = None


def _init_worker(task: Replicate) -> None:
    global _TASK
    _TASK = task


def _run_chunk(seeds: Sequence[np.random.SeedSequence]) -> np.ndarray:
    """Replicates of the worker's task, one BLAS thread each: the refits are many and
    small, and OpenBLAS's threads make tiny triangular solves a thousand times slower."""
    assert _TASK is not None
    with threadpool_limits(1):
        return np.stack([_TASK(np.random.default_rng(s)) for s in seeds])


def _run_indexed_chunk(item: tuple[int, Sequence[np.random.SeedSequence]]) -> tuple[int, np.ndarray]:
    return item[0], _run_chunk(item[1])


def run_replicates(
    task: Replicate,
    nsim: int,
    seed: int | None = None,
    workers: int = 1,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Run ``task`` on ``nsim`` independently seeded generators.

    Parameters
    ----------
    task : Replicate
    nsim : int
    seed : int or None
    workers : int
        Worker processes (1: in this process; 0: one per CPU).
    progress : callable, optional
        ``progress(done, nsim)`` after each batch.

    Returns
    -------
    ndarray, shape (nsim, task.width)
    """
    nsim = check_count(nsim, "the number of bootstrap samples", 1)
    seed = check_seed(seed)
    if isinstance(seed, np.random.Generator):
        raise LmmdxError("the bootstrap's seed must be a non-negative integer (each replicate gets its own "
                         "stream), not a Generator")
    seeds = np.random.SeedSequence(seed).spawn(nsim)
    chunks = [seeds[i : i + _CHUNK] for i in range(0, nsim, _CHUNK)]
    out = np.empty((nsim, task.width))
    workers = worker_count(workers, len(chunks))
    done = 0
    if workers == 1:
        _init_worker(task)
        for i, chunk in enumerate(chunks):
            out[i * _CHUNK : i * _CHUNK + len(chunk)] = _run_chunk(chunk)
            done += len(chunk)
            if progress:
                progress(done, nsim)
        return out
    with WorkerPool(workers, _init_worker, (task,)) as pool:
        for i, rows in pool.imap_unordered(_run_indexed_chunk, enumerate(chunks)):
            out[i * _CHUNK : i * _CHUNK + rows.shape[0]] = rows
            done += rows.shape[0]
            if progress:
                progress(done, nsim)
    return out


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """Parametric-bootstrap replicates of every parameter.

    Attributes
    ----------
    names : tuple of str
        Parameter names (see :mod:`.parameters`).
    estimates : ndarray, shape (k,)
    replicates : ndarray, shape (nsim, k)
        NaN rows for refits that failed.
    singular : ndarray of bool, shape (nsim,)
        Which refits were singular.
    seed : int or None
    """

    names: tuple[str, ...]
    estimates: np.ndarray
    replicates: np.ndarray
    singular: np.ndarray
    seed: int | None

    @property
    def failures(self) -> int:
        """Refits that failed."""
        return int(np.isnan(self.replicates).all(axis=1).sum())


def bootstrap(
    fit: Fit, nsim: int = 1000, seed: int | None = None, workers: int = 1, progress: ProgressFn | None = None
) -> BootstrapResult:
    """Parametric bootstrap of every parameter of ``fit`` (lme4's ``bootMer``, ``use.u = FALSE``)."""
    task = ParameterReplicate(fit)
    rows = run_replicates(task, nsim, seed, workers, progress)
    names = tuple(p.name for p in parameters(fit.model))
    singular = np.nan_to_num(rows[:, -1], nan=0.0) > 0.5
    return BootstrapResult(names, fit_parameters(fit), rows[:, :-1], singular, seed)


def bootstrap_intervals(
    fit: Fit,
    level: float = 0.95,
    nsim: int = 1000,
    seed: int | None = None,
    workers: int = 1,
    progress: ProgressFn | None = None,
) -> Intervals:
    """Percentile intervals from a parametric bootstrap of every parameter."""
    result = bootstrap(fit, nsim, seed, workers, progress)
    a = (1.0 - level) / 2.0
    ok = ~np.isnan(result.replicates).all(axis=1)
    if not ok.any():
        raise LmmdxError(f"all {nsim} bootstrap refits failed")
    kept = result.replicates[ok]  # NaN: a correlation beside a zero SD (see lmmdx.boundary)
    with np.errstate(invalid="ignore"):
        lows, highs = np.nanquantile(kept, [a, 1.0 - a], axis=0)
    out = [
        Interval(name, float(est), float(lo), float(hi), "bootstrap")
        for name, est, lo, hi in zip(result.names, result.estimates, lows, highs, strict=True)
    ]
    notes = [f"{int(ok.sum())} parametric-bootstrap refits (seed {seed}), percentile intervals"]
    if result.failures:
        notes.append(f"{result.failures} refits failed and were left out")
    for name, column in zip(result.names, kept.T, strict=True):
        missing = int(np.isnan(column).sum())
        if missing:
            notes.append(f"{name}: undefined (an SD of 0) in {missing} refits, which are left out of its interval")
    share = float(result.singular[ok].mean())
    if share > 0:
        notes.append(f"{100 * share:.0f}% of the refits were singular")
    return Intervals("bootstrap", level, tuple(out), tuple(notes))
