"""Fit every candidate, side by side: the remedy's orchestrator, ``Fit`` → :class:`RemedyReport`.

The strategies are independent of each other (except that backward elimination
starts from the maximal feasible structure), and they share one :class:`FitCache`
so that a model proposed twice is fitted once. When the user's fit took long
enough for it to pay, the strategies run in a thread pool (the numerics release
the GIL in LAPACK); ``progress`` is told after each.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from scipy import special

from ..diagnose import Diagnosis, diagnose
from ..errors import LmmdxError
from ..inference.ddf import Tester
from ..inference.lrt import compare
from ..result import Fit
from .components import pca_reduction
from .fixed import OlsAlternative, cluster_robust, fixed_effects
from .penalised import PenalizedFit, blme_penalty, fit_penalized
from .recommend import recommend, sensitivity
from .refit import FitCache, Refit
from .result import STRATEGIES, Candidate, EffectEstimate, RemedyReport
from .stepwise import LRT_ALPHA, Selection, TermTest, backward_elimination, maximal_feasible
from .structure import Structure, structure_of

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


def _estimate(term: str, estimate: float, se: float, df: float, p: float | None = None) -> EffectEstimate:
    """The effect with its 95% t interval (normal when df is unknown) and, unless given, its t test's p."""
    if not (math.isfinite(estimate) and math.isfinite(se) and se > 0):
        nan = float("nan")
        return EffectEstimate(term, estimate, se, df, nan, nan, nan)
    finite = math.isfinite(df) and df > 0
    half = (float(special.stdtrit(df, 0.975)) if finite else float(special.ndtri(0.975))) * se
    if p is None:
        z = -abs(estimate / se)
        p = 2.0 * (float(special.stdtr(df, z)) if finite else float(special.ndtr(z)))
    return EffectEstimate(term, estimate, se, df, estimate - half, estimate + half, p)


def _mixed_effects(
    fit: Fit, terms: tuple[str, ...], penalty: Callable[[np.ndarray], float] | None = None
) -> tuple[EffectEstimate, ...]:
    """Satterthwaite t tests of the effects (of the penalised criterion when ``penalty`` is given)."""
    try:
        tests = {t.term: t for t in Tester(fit, "satterthwaite", penalty).coefficients()}
    except (LmmdxError, np.linalg.LinAlgError, ValueError):
        tests = {}
    nan = float("nan")
    out = []
    for term in terms:
        if term in tests:
            t = tests[term]
            out.append(_estimate(term, t.estimate, t.std_error, t.df, t.p_value))
        elif term in fit.fixed_names:
            j = fit.fixed_names.index(term)
            out.append(_estimate(term, float(fit.beta[j]), float(fit.std_errors[j]), nan))
        else:
            out.append(_estimate(term, nan, nan, nan))
    return tuple(out)


def _ols_effects(ols: OlsAlternative, terms: tuple[str, ...]) -> tuple[EffectEstimate, ...]:
    se = np.sqrt(np.diag(ols.vcov))
    nan = float("nan")
    out = []
    for term in terms:
        if term in ols.names:
            i = ols.names.index(term)
            out.append(_estimate(term, float(ols.beta[i]), float(se[i]), float(ols.df[i])))
        else:
            out.append(_estimate(term, nan, nan, nan))
    return tuple(out)


class _Run:
    """State shared by the strategies of one :func:`remedies` call."""

    def __init__(
        self, fit: Fit, terms: tuple[str, ...], select: str, alpha: float, thorough: bool | None
    ) -> None:
        self.fit, self.terms, self.select, self.alpha, self.thorough = fit, terms, select, alpha, thorough
        self.full = structure_of(fit.model.design.formula)
        self.cache = FitCache(fit)
        self.cache.seed(self.full, fit)
        self.mapper: Callable[..., Any] = map
        self._effects: dict[tuple[object, ...], tuple[tuple[EffectEstimate, ...], Diagnosis]] = {}

    def mixed(self, name: str, refit: Refit, reason: str, tests: tuple[TermTest, ...] = ()) -> Candidate:
        structure, fit = refit.structure, refit.fit
        method = "reml" if self.fit.reml else "ml"
        if fit is None:
            nan = float("nan")
            return Candidate(
                name,
                structure.formula,
                method,
                False,
                False,
                structure.n_cov_params,
                nan,
                nan,
                nan,
                f"not fitted: {refit.error}",
                reason,
                tuple(_estimate(t, nan, nan, nan) for t in self.terms),
                tests,
            )
        key = structure.key
        if key not in self._effects:
            # the multi-optimiser check of the diagnosis refits the model several times: thorough runs only
            self._effects[key] = (
                _mixed_effects(fit, self.terms),
                diagnose(fit, None if self.thorough else ()),
            )
        effects, diagnosis = self._effects[key]
        formula = fit.formula if name == "maximal" else structure.formula
        return Candidate(
            name,
            formula,
            method,
            fit.converged,
            fit.singular,
            structure.n_cov_params,
            fit.loglik,
            fit.aic,
            fit.bic,
            diagnosis.status,
            reason,
            effects,
            tests,
            fit=fit,
            diagnosis=diagnosis,
        )

    # -- strategies, each → list of candidates -------------------------------------------
    def zero_correlation(self) -> list[Candidate]:
        zcp = self.full.zero_correlation()
        if zcp.key == self.full.key:
            return [
                self.mixed(
                    "zero_correlation",
                    self.cache.fit(zcp),
                    "no correlation to drop: the model has no term with more than one random effect",
                )
            ]
        refit = self.cache.fit(zcp)
        reason = "correlations between random effects set to zero (lme4's ||)"
        if refit.fit is not None:
            test = compare(refit.fit, self.fit)
            stat, p = test.statistic, test.p_value
            reason += f"; LRT against the maximal model: χ²({test.df}) = {stat:.3g}, p = {p:.3g}"
        return [self.mixed("zero_correlation", refit, reason)]

    def pca(self) -> list[Candidate]:
        reduced, notes = pca_reduction(self.full, self.fit)
        reason = "principal components of the random effects (Bates et al. 2015): " + "; ".join(notes)
        return [self.mixed("pca_reduced", self.cache.fit(reduced), reason)]

    def intercept_only(self) -> list[Candidate]:
        return [
            self.mixed(
                "intercept_only",
                self.cache.fit(self.full.intercepts_only()),
                "random intercepts only, the simplest structure for these grouping factors",
            )
        ]

    def stepwise(self) -> list[Candidate]:
        feasible = maximal_feasible(self.full, self.cache)
        lines = "; ".join(t.describe() for t in feasible.tests)
        out = [
            self._selected(
                "maximal_feasible",
                feasible,
                "largest structure in formula order that converges without a singular fit "
                f"(Barr et al. 2013, as buildmer builds it): {lines}",
            )
        ]
        name = f"{self.select}_selected"
        if feasible.structure is None:
            out.append(self._selected(name, feasible, "no structure to eliminate from: " + lines))
            return out
        criterion: Literal["lrt", "aic"] = "aic" if self.select == "aic" else "lrt"
        chosen = backward_elimination(feasible.structure, self.cache, criterion, self.alpha, self.mapper)
        rule = (
            f"boundary-corrected LRT at α = {self.alpha:g} (Matuschek et al. 2017)"
            if self.select == "lrt"
            else "AIC"
        )
        steps = "; ".join(t.describe() for t in chosen.tests) or "no random effect can be dropped"
        out.append(
            self._selected(
                name, chosen, f"backward elimination from the maximal feasible structure by {rule}: {steps}"
            )
        )
        return out

    def _selected(self, name: str, selection: Selection, reason: str) -> Candidate:
        if selection.structure is None:
            empty = Structure(self.full.response, self.full.fixed, ())
            return self.mixed(
                name,
                Refit(empty, None, "no random effect converges without a singular fit"),
                reason,
                selection.tests,
            )
        return self.mixed(name, self.cache.fit(selection.structure), reason, selection.tests)

    def penalized(self) -> list[Candidate]:
        fit = self.fit
        try:
            if self.thorough is None:
                hint = fit.model.deviance.layout.diagonal_mask()
                start = np.where(hint, np.maximum(fit.theta_internal, 0.05), fit.theta_internal)
                pen = fit_penalized(
                    fit.model,
                    fit.reml,
                    optimizers=("bobyqa", "nelder_mead"),
                    starts=[("unpenalised optimum", start)],
                )
            else:
                pen = fit_penalized(
                    fit.model, fit.reml, theta_hint=fit.theta_internal, thorough=self.thorough
                )
        except LmmdxError as exc:
            nan = float("nan")
            return [
                Candidate(
                    "penalized",
                    fit.formula,
                    "penalized",
                    False,
                    False,
                    self.full.n_cov_params,
                    nan,
                    nan,
                    nan,
                    f"not fitted: {exc}",
                    "blme's default prior",
                    tuple(_estimate(t, nan, nan, nan) for t in self.terms),
                )
            ]
        return [self._penalized_candidate(pen)]

    def _penalized_candidate(self, pen: PenalizedFit) -> Candidate:
        f = pen.fit
        converged = all(r.converged for r in pen.runs) and pen.agree
        reason = (
            "maximum penalised likelihood with blme's default prior, a Wishart with df = q + 2.5 on each "
            "random-effects covariance (gamma(2.5, 0) on a single SD), which keeps every variance off the "
            f"boundary (Chung et al. 2013); penalised criterion {pen.criterion:.4f}; {pen.describe()}"
        )
        status = (
            "ok"
            if converged and not f.singular
            else ("optimisers disagree" if not pen.agree else "not converged")
        )
        return Candidate(
            "penalized",
            f.formula,
            "penalized",
            converged,
            f.singular,
            self.full.n_cov_params,
            f.loglik,
            f.aic,
            f.bic,
            status,
            reason,
            _mixed_effects(f, self.terms, blme_penalty(f.model.deviance.layout)),
            fit=pen,
        )

    def fixed(self) -> list[Candidate]:
        design = self.fit.model.design
        out = []
        why = (
            "grouping factors as fixed effects, with their interactions with the random slopes, in "
            "sum-to-zero coding (a slope is the average within-group slope); inference about these "
            "levels only: " + ", ".join(f"{g} ({n_} levels)" for g, n_ in self.fit.ngroups.items())
        )
        try:
            fe = fixed_effects(design, self.full)
        except LmmdxError as exc:
            nan = float("nan")
            out.append(
                Candidate(
                    "fixed_effects",
                    "",
                    "fixed_effects",
                    False,
                    False,
                    1,
                    nan,
                    nan,
                    nan,
                    f"not fitted: {exc}",
                    why,
                    tuple(_estimate(t, nan, nan, nan) for t in self.terms),
                )
            )
        else:
            note = f"; not estimable here: {', '.join(fe.dropped)}" if fe.dropped else ""
            out.append(
                Candidate(
                    "fixed_effects",
                    fe.formula,
                    "fixed_effects",
                    True,
                    False,
                    1,
                    fe.loglik,
                    fe.aic,
                    fe.bic,
                    "ok" if not fe.dropped else "some effects not estimable",
                    why + note,
                    _ols_effects(fe, self.terms),
                    fit=fe,
                )
            )
        cr = cluster_robust(design, self.full)
        assert cr.cluster is not None
        others = [g for g in self.fit.ngroups if g != cr.cluster.name]
        ignored = (
            f"; the clustering ignores {', '.join(others)} (crossed or nested within it)" if others else ""
        )
        clusters = cr.cluster.nlevels
        nan = float("nan")
        out.append(
            Candidate(
                "cluster_robust",
                cr.formula,
                "cluster_robust",
                True,
                False,
                0,
                nan,
                nan,
                nan,
                "ok" if clusters >= 2 else "one cluster",
                f"OLS with CR2 cluster-robust standard errors by {cr.cluster.name} ({clusters} clusters) "
                "and Satterthwaite df (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018), no model for "
                "the random effects" + ignored,
                _ols_effects(cr, self.terms),
                fit=cr,
            )
        )
        return out


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
    run = _Run(fit, terms, select, alpha, thorough)
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
    notes = []
    diagnosis = by_name["maximal"].diagnosis
    report = RemedyReport(fit.formula, fit.reml, terms, tuple(candidates), chosen, reasons, verdict_)
    if diagnosis is not None:
        links = [
            f"{r.action} ({r.formula}) → {c.name}"
            for f in diagnosis.findings
            for r in f.remedies
            if (c := report.for_remedy(r)) is not None
        ]
        if links:
            notes.append("the diagnosis's remedies are these candidates: " + "; ".join(dict.fromkeys(links)))
    if run.thorough is not True:
        notes.append("diagnoses without their multi-optimiser check (thorough=True adds it)")
    pen = by_name["penalized"].fit
    if isinstance(pen, PenalizedFit):
        notes.append("penalised fit: " + pen.describe())
    return replace(report, notes=tuple(notes))
