"""Fit every candidate, side by side: the remedy's orchestrator, ``Fit`` → :class:`RemedyReport`.

The strategies are independent of each other (except that backward elimination
starts from the maximal feasible structure), and they share one :class:`FitCache`
so that a model proposed twice is fitted once. When the user's fit took long
enough for it to pay, the strategies run in a thread pool (the numerics release
the GIL in LAPACK); ``progress`` is told after each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Literal

import numpy as np

from ..errors import LmmdxError
from ..result import Fit, GlmmFit
from .candidates import Strategies
from .penalised import PenalizedFit
from .recommend import recommend, sensitivity
from .refit import Refit
from .result import STRATEGIES, Candidate, RemedyReport
from .stepwise import LRT_ALPHA
from .structure import structure_of

__all__ = ["PARALLEL_MIN_SECONDS", "THOROUGH_MAX_SECONDS", "Progress", "remedies"]

#: Strategies run in parallel threads when one fit of the user's model is estimated to
#: take at least this long; below it, thread start-up costs more than it saves.
PARALLEL_MIN_SECONDS = 0.25
#: A thorough run (the penalised fit by every optimiser from every start, each candidate's
#: diagnosis with its multi-optimiser check) when one fit of the user's model is estimated to
#: take less than this; beyond, two optimisers from the unpenalised optimum (lifted off the
#: boundary) confirm the penalised fit, and the diagnoses skip the multi-optimiser check.
THOROUGH_MAX_SECONDS = 0.1

Progress = Callable[[int, int], None]


def _effects_of_interest(fit: Fit, effects: Sequence[str] | None) -> tuple[str, ...]:
    names = fit.fixed_names
    if effects is None:
        return tuple(n for n in names if n != "(Intercept)")
    unknown = [e for e in effects if e not in names]
    if unknown:
        raise LmmdxError(
            f"no fixed effect called {unknown[0]!r}; the model's fixed effects are: {', '.join(names)}"
        )
    return tuple(dict.fromkeys(effects))


def _mark_duplicates(candidates: list[Candidate]) -> list[Candidate]:
    seen: dict[tuple[object, ...], Candidate] = {}
    out = []
    for c in candidates:
        if c.method in ("reml", "ml") and c.fit is not None:
            key = structure_of(c.formula).key
            if key in seen:
                first = seen[key]
                c = replace(
                    c,
                    formula=first.formula,
                    same_as=first.name,
                    reason=f"{c.reason} (same model as {first.name})",
                )
            else:
                seen[key] = c
        out.append(c)
    return out


def _fit_seconds(fit: Fit) -> float:
    """Estimated time of one fit of the user's model: one evaluation timed, times the evaluations it took."""
    start = time.perf_counter()
    if isinstance(fit, GlmmFit):
        fit.glmm.evaluator()(np.concatenate([fit.theta_internal, fit.beta_internal]))
    else:
        fit.model.deviance(fit.theta_internal, fit.reml)
    return (time.perf_counter() - start) * max(fit.optimizer.nevals, 1)


def remedies(
    fit: Fit,
    effects: Sequence[str] | None = None,
    select: Literal["lrt", "aic"] = "lrt",
    alpha: float = LRT_ALPHA,
    workers: int | None = None,
    progress: Progress | None = None,
    thorough: bool | None = None,
) -> RemedyReport:
    """Fit the alternatives to ``fit`` and compare them.

    Parameters
    ----------
    fit : Fit
    effects : sequence of str, optional
        Fixed effects of interest (default: all but the intercept).
    select : {"lrt", "aic"}
        Backward elimination by boundary-corrected likelihood-ratio test at ``alpha``, or by AIC.
    alpha : float
    workers : int, optional
        Threads (default: as many as CPUs, up to 4, when the fits are slow enough to gain; 1 = sequential).
    progress : callable, optional
        Called as ``progress(done, total)`` after each strategy.
    thorough : bool, optional
        True runs the penalised fit with every optimiser from every start and diagnoses each
        candidate with the multi-optimiser check; False runs the penalised fit from one start
        with one optimiser and skips that check (simulations); None (default) is True for
        models that fit in under :data:`THOROUGH_MAX_SECONDS`, else two optimisers confirm
        the penalised fit and the check is skipped.

    Returns
    -------
    RemedyReport
    """
    if select not in ("lrt", "aic"):
        raise LmmdxError(f"select must be 'lrt' or 'aic', not {select!r}")
    terms = _effects_of_interest(fit, effects)
    seconds = _fit_seconds(fit)
    if thorough is None and seconds < THOROUGH_MAX_SECONDS:
        thorough = True
    run = Strategies(fit, terms, select, alpha, thorough)
    maximal = run.mixed("maximal", Refit(run.full, fit), "the model as specified")
    tasks: list[Callable[[], list[Candidate]]] = [
        run.stepwise,
        run.penalized,
        run.zero_correlation,
        run.pca,
        run.intercept_only,
        run.fixed,
    ]
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if seconds >= PARALLEL_MIN_SECONDS else 1
    results: list[Candidate] = [maximal]
    if workers > 1:
        with (
            ThreadPoolExecutor(max_workers=workers) as pool,
            ThreadPoolExecutor(max_workers=workers) as inner,
        ):
            run.mapper = inner.map
            futures = [pool.submit(task) for task in tasks]
            for done, future in enumerate(futures, start=1):
                results.extend(future.result())
                if progress is not None:
                    progress(done, len(tasks))
    else:
        for done, task in enumerate(tasks, start=1):
            results.extend(task())
            if progress is not None:
                progress(done, len(tasks))
    results.sort(key=lambda c: STRATEGIES.index(c.name))
    candidates = _mark_duplicates(results)
    verdict_ = sensitivity(candidates, terms)
    by_name = {c.name: c for c in candidates}
    chosen, reasons = recommend(by_name, f"{select}_selected", fit.ngroups, verdict_)
    report = RemedyReport(fit.formula, fit.reml, terms, tuple(candidates), chosen, reasons, verdict_)
    return replace(report, notes=_notes(report, run.thorough is True))


def _notes(report: RemedyReport, thorough: bool) -> tuple[str, ...]:
    """Which candidates carry out the diagnosis's remedies; how thorough the run was."""
    notes = []
    diagnosis = report.candidate("maximal").diagnosis
    if diagnosis is not None:
        links = [f"{r.action} ({r.formula}) → {c.name}" for f in diagnosis.findings for r in f.remedies
                 if (c := report.for_remedy(r)) is not None]
        if links:
            notes.append("the diagnosis's remedies are these candidates: " + "; ".join(dict.fromkeys(links)))
    if not thorough:
        notes.append("diagnoses without their multi-optimiser check (thorough=True adds it)")
    pen = report.candidate("penalized").fit
    if isinstance(pen, PenalizedFit):
        notes.append("penalised fit: " + pen.describe())
    return tuple(notes)
