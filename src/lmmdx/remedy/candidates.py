"""The candidates, proposed and fitted from a :class:`Fit`: one method per strategy.

(a) the zero-correlation model; (b) the PCA-reduced model (:mod:`.components`);
(c) backward elimination and (d) the maximal feasible structure (:mod:`.stepwise`);
(e) the intercept-only model; the penalised fit (:mod:`.penalised`); the fixed-effects
and cluster-robust alternatives (:mod:`.fixed`). Each :class:`Candidate` carries the
reason it was proposed and the tests that kept or dropped each random effect; each
mixed model, its diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from ..diagnose import Diagnosis, diagnose
from ..errors import LmmdxError
from ..inference.lrt import compare
from ..result import Fit, GlmmFit
from .components import pca_reduction
from .effects import missing, mixed_effects, ols_effects
from .fixed import cluster_robust, fixed_effects
from .glmm import cluster_robust_glm, fixed_effects_glm, glm_effects, glmm_effects, penalized_glmm
from .penalised import PenalizedFit, blme_penalty, fit_penalized
from .refit import FitCache, Refit
from .result import Candidate, EffectEstimate
from .stepwise import (
    Selection,
    TermTest,
    backward_elimination,
    interest_variables,
    maximal_feasible,
    of_interest,
)
from .structure import Structure, structure_of

__all__ = ["Strategies"]

_NAN = float("nan")


class Strategies:
    """The strategies of one remedy run, sharing a :class:`FitCache`; each method returns candidates.

    Parameters
    ----------
    fit : Fit
        The user's fit.
    terms : tuple of str
        The effects of interest.
    select : {"lrt", "aic"}
    alpha : float
    thorough : bool or None
        See :func:`lmmdx.remedy.compare.remedies`.
    """

    def __init__(
        self, fit: Fit, terms: tuple[str, ...], select: str, alpha: float, thorough: bool | None
    ) -> None:
        self.fit, self.terms, self.select, self.alpha, self.thorough = fit, terms, select, alpha, thorough
        self.full = structure_of(fit.model.design.formula)
        #: Random effects of the effects of interest: never dropped by a test (:mod:`.stepwise`).
        self.keep = of_interest(self.full, interest_variables(fit.model.design, terms))
        self.cache = FitCache(fit)
        self.cache.seed(self.full, fit)
        #: ``map``-like function for the refits of one elimination step (a thread pool's when parallel).
        self.mapper: Callable[..., Any] = map
        self._done: dict[tuple[object, ...], tuple[tuple[EffectEstimate, ...], Diagnosis]] = {}

    def _unfitted(self, name: str, formula: str, method: str, n_cov: int, error: str, reason: str,
                  tests: tuple[TermTest, ...] = ()) -> Candidate:
        return Candidate(name, formula, method, False, False, n_cov, _NAN, _NAN, _NAN, f"not fitted: {error}",
                         reason, missing(self.terms), tests)

    def mixed(self, name: str, refit: Refit, reason: str, tests: tuple[TermTest, ...] = ()) -> Candidate:
        """The candidate of a REML/ML refit, with its effects and diagnosis (computed once per model)."""
        structure, fit = refit.structure, refit.fit
        method = "reml" if self.fit.reml else "ml"
        glmm = isinstance(self.fit, GlmmFit)
        if fit is None:
            return self._unfitted(name, structure.formula, method, structure.n_cov_params, str(refit.error),
                                  reason, tests)
        if structure.key not in self._done:
            # the diagnosis's multi-optimiser check refits the model several times: thorough runs only
            if glmm:
                assert isinstance(fit, GlmmFit)
                self._done[structure.key] = (glmm_effects(fit, self.terms),
                                             fit.diagnose(None if self.thorough else ()))
            else:
                self._done[structure.key] = (mixed_effects(fit, self.terms),
                                             diagnose(fit, None if self.thorough else ()))
        effects, diagnosis = self._done[structure.key]
        return Candidate(
            name, fit.formula if name == "maximal" else structure.formula, method, fit.converged,
            fit.singular, structure.n_cov_params, fit.loglik, fit.aic, fit.bic, diagnosis.status, reason,
            effects, tests, fit=fit, diagnosis=diagnosis,
        )

    # -- (a), (b), (e) -------------------------------------------------------------------
    def zero_correlation(self) -> list[Candidate]:
        """(a) Every correlation set to zero, with its LRT against the maximal model."""
        zcp = self.full.zero_correlation()
        refit = self.cache.fit(zcp)
        if zcp.key == self.full.key:
            reason = "no correlation to drop: the model has no term with more than one random effect"
            return [self.mixed("zero_correlation", refit, reason)]
        reason = "correlations between random effects set to zero (lme4's ||)"
        if refit.fit is not None:
            test = compare(refit.fit, self.fit)
            stat, p = test.statistic, test.p_value
            reason += f"; LRT against the maximal model: χ²({test.df}) = {stat:.3g}, p = {p:.3g}"
        return [self.mixed("zero_correlation", refit, reason)]

    def pca(self) -> list[Candidate]:
        """(b) Without the dimensions the principal components say are not supported."""
        reduced, notes = pca_reduction(self.full, self.fit)
        reason = "principal components of the random effects (Bates et al. 2015): " + "; ".join(notes)
        return [self.mixed("pca_reduced", self.cache.fit(reduced), reason)]

    def intercept_only(self) -> list[Candidate]:
        """(e) One random intercept per grouping factor."""
        reason = "random intercepts only, the simplest structure for these grouping factors"
        return [self.mixed("intercept_only", self.cache.fit(self.full.intercepts_only()), reason)]

    # -- (d) then (c) ----------------------------------------------------------------------
    def stepwise(self) -> list[Candidate]:
        """(d) The maximal feasible structure, and (c) backward elimination from it."""
        feasible = maximal_feasible(self.full, self.cache, self.keep)
        lines = "; ".join(t.describe() for t in feasible.tests)
        out = [self._selected("maximal_feasible", feasible,
                              "largest structure in formula order that converges without a singular fit "
                              f"(Barr et al. 2013, as buildmer builds it): {lines}")]
        name = f"{self.select}_selected"
        if feasible.structure is None:
            out.append(self._selected(name, feasible, "no structure to eliminate from: " + lines))
            return out
        criterion: Literal["lrt", "aic"] = "aic" if self.select == "aic" else "lrt"
        chosen = backward_elimination(feasible.structure, self.cache, criterion, self.alpha, self.mapper,
                                      self.keep)
        rule = (f"boundary-corrected LRT at α = {self.alpha:g} (Matuschek et al. 2017)" if criterion == "lrt"
                else "AIC")
        steps = "; ".join(t.describe() for t in chosen.tests) or "no random effect can be dropped"
        reason = f"backward elimination from the maximal feasible structure by {rule}: {steps}"
        out.append(self._selected(name, chosen, reason))
        return out

    def _selected(self, name: str, selection: Selection, reason: str) -> Candidate:
        if selection.structure is None:
            empty = Refit(Structure(self.full.response, self.full.fixed, ()), None,
                          "no random effect converges without a singular fit")
            return self.mixed(name, empty, reason, selection.tests)
        return self.mixed(name, self.cache.fit(selection.structure), reason, selection.tests)

    # -- penalised ---------------------------------------------------------------------------
    def penalized(self) -> list[Candidate]:
        """The user's model with blme's default prior, optimised until the optimisers agree."""
        fit = self.fit
        reason = ("maximum penalised likelihood with blme's default prior, a Wishart with df = q + 2.5 on "
                  "each random-effects covariance (gamma(2.5, 0) on a single SD), which keeps every variance "
                  "off the boundary (Chung et al. 2013)")
        if isinstance(fit, GlmmFit):
            return [self._penalized_glmm(fit, reason)]
        try:
            if self.thorough is None:  # a slow model: two optimisers from the unpenalised optimum
                diagonal = fit.model.deviance.layout.diagonal_mask()
                start = np.where(diagonal, np.maximum(fit.theta_internal, 0.05), fit.theta_internal)
                pen = fit_penalized(fit.model, fit.reml, optimizers=("bobyqa", "nelder_mead"),
                                    starts=[("unpenalised optimum", start)])
            else:
                pen = fit_penalized(fit.model, fit.reml, theta_hint=fit.theta_internal,
                                    thorough=self.thorough)
        except LmmdxError as exc:
            return [self._unfitted("penalized", fit.formula, "penalized", self.full.n_cov_params, str(exc),
                                   reason)]
        return [self._penalized(pen, reason)]

    def _penalized(self, pen: PenalizedFit, reason: str) -> Candidate:
        f = pen.fit
        converged = all(r.converged for r in pen.runs) and pen.agree
        status = ("ok" if converged and not f.singular
                  else "not converged" if pen.agree else "optimisers disagree")
        reason += f"; penalised criterion {pen.criterion:.4f}; {pen.describe()}"
        effects = mixed_effects(f, self.terms, blme_penalty(f.model.deviance.layout))
        return Candidate("penalized", f.formula, "penalized", converged, f.singular, self.full.n_cov_params,
                         f.loglik, f.aic, f.bic, status, reason, effects, fit=pen)

    def _penalized_glmm(self, fit: GlmmFit, reason: str) -> Candidate:
        separated = False
        maximal = self._done.get(self.full.key)
        if maximal is not None:
            separated = maximal[1].finding("separation") is not None
        else:
            from ..diagnose.glmm import separation

            model = fit.glmm
            separated = separation(model.design.X, model.design.y, model.weights, fit.family) is not None
        name = "bglmer"
        if separated:
            reason += ("; with blme's weak normal prior on the fixed effects (sd 10 for the intercept, 2.5 "
                       "otherwise), because the diagnosis finds separation: every estimate is then finite")
        try:
            pen = penalized_glmm(fit, fixef_prior=separated)
        except LmmdxError as exc:
            return self._unfitted("penalized", fit.formula, "penalized", self.full.n_cov_params, str(exc), reason)
        f = pen.fit
        converged = f.converged and pen.agree
        status = ("ok" if converged and not f.singular
                  else "not converged" if pen.agree else "optimisers disagree")
        reason += f" ({name}); penalised criterion {pen.criterion:.4f}; {pen.describe()}"
        return Candidate("penalized", f.formula, "penalized", converged, f.singular, self.full.n_cov_params,
                         f.loglik, f.aic, f.bic, status, reason, glmm_effects(f, self.terms), fit=pen)

    def _fixed_glmm(self, fit: GlmmFit) -> list[Candidate]:
        levels = ", ".join(f"{g} ({n} levels)" for g, n in fit.ngroups.items())
        why = ("grouping factors as fixed effects in a GLM, with their interactions with the random slopes, in "
               f"sum-to-zero coding; inference about these levels only: {levels}")
        out = []
        try:
            fe = fixed_effects_glm(fit)
        except (LmmdxError, np.linalg.LinAlgError) as exc:
            out.append(self._unfitted("fixed_effects", "", "fixed_effects", 0, str(exc), why))
        else:
            note = f"; not estimable (aliased, or infinite: separation): {', '.join(fe.dropped)}" if fe.dropped else ""
            status = "ok" if not fe.dropped and fe.converged else "some effects not estimable"
            out.append(Candidate("fixed_effects", fe.formula, "fixed_effects", fe.converged, False, 0, fe.loglik,
                                 fe.aic, fe.bic, status, why + note, glm_effects(fe, self.terms), fit=fe))
        cr = cluster_robust_glm(fit)
        others = [g for g in fit.ngroups if g != cr.cluster]
        reason = (f"GLM of the fixed part with CR2 cluster-robust standard errors by {cr.cluster} "
                  f"({cr.nclusters} clusters) and G − 1 df (Bell & McCaffrey 2002), no model for the random "
                  "effects; the estimates are population-averaged, smaller in size than the GLMM's")
        if others:
            reason += f"; the clustering ignores {', '.join(others)} (crossed or nested within it)"
        status = "ok" if cr.nclusters >= 2 and cr.converged else "one cluster"
        out.append(Candidate("cluster_robust", cr.formula, "cluster_robust", cr.converged, False, 0, _NAN, _NAN,
                             _NAN, status, reason, glm_effects(cr, self.terms), fit=cr))
        return out

    # -- fixed-effects alternatives ----------------------------------------------------------
    def fixed(self) -> list[Candidate]:
        """The grouping factors as fixed effects, and OLS with CR2 cluster-robust standard errors."""
        if isinstance(self.fit, GlmmFit):
            return self._fixed_glmm(self.fit)
        design = self.fit.model.design
        levels = ", ".join(f"{g} ({n} levels)" for g, n in self.fit.ngroups.items())
        why = ("grouping factors as fixed effects, with their interactions with the random slopes, in "
               "sum-to-zero coding (a slope is the average within-group slope); inference about these "
               f"levels only: {levels}")
        try:
            fe = fixed_effects(design, self.full)
        except LmmdxError as exc:
            out = [self._unfitted("fixed_effects", "", "fixed_effects", 1, str(exc), why)]
        else:
            note = f"; not estimable here: {', '.join(fe.dropped)}" if fe.dropped else ""
            status = "ok" if not fe.dropped else "some effects not estimable"
            out = [Candidate("fixed_effects", fe.formula, "fixed_effects", True, False, 1, fe.loglik, fe.aic,
                             fe.bic, status, why + note, ols_effects(fe, self.terms), fit=fe)]
        cr = cluster_robust(design, self.full)
        assert cr.cluster is not None
        others = [g for g in self.fit.ngroups if g != cr.cluster.name]
        clusters = cr.cluster.nlevels
        reason = (f"OLS with CR2 cluster-robust standard errors by {cr.cluster.name} ({clusters} clusters) "
                  "and Satterthwaite df (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018), no model for "
                  "the random effects")
        if others:
            reason += f"; the clustering ignores {', '.join(others)} (crossed or nested within it)"
        status = "ok" if clusters >= 2 else "one cluster"
        out.append(Candidate("cluster_robust", cr.formula, "cluster_robust", True, False, 0, _NAN, _NAN,
                             _NAN, status, reason, ols_effects(cr, self.terms), fit=cr))
        return out
