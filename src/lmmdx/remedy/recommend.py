"""The sensitivity verdict and the recommendation.

Recommendation rule, in order:

1. A grouping factor with fewer than :data:`MIN_LEVELS` levels: its variance is
   barely identifiable and mixed-model degrees of freedom are unreliable, so the
   cluster-robust fit (CR2 with Satterthwaite df, honest with few clusters) is the
   safer report, with the fixed-effects fit as the answer about these groups.
2. The penalised fit, when it is usable and the simplification had to leave out a
   random slope of an effect of interest whose variance was *not* estimated at zero
   (its fits failed to converge or another variance collapsed): the penalised fit
   keeps that slope, whose absence would make the effect's test too liberal.
3. Otherwise the model the simplification procedure selects (backward elimination
   from the maximal feasible structure, :mod:`.stepwise`), when it converges and is
   not singular. It keeps every random slope of the effects of interest unless its
   variance is estimated at zero, and drops only correlations that cannot be
   estimated (Barr et al. 2013); the other random effects are selected by LRT at
   α = 0.2 (Matuschek et al. 2017).
4. Otherwise the maximal feasible structure.
5. Otherwise the penalised fit, when its optimisers agree: it keeps the design's
   structure with every variance off the boundary.
6. Otherwise the cluster-robust fit.

``bench/remedy_calibration.py`` measures the type I error and power of this rule by
simulation on the seed design.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .result import Candidate, EffectSensitivity, Sensitivity

__all__ = ["MIN_LEVELS", "SIGNIFICANCE", "recommend", "sensitivity"]

#: Fewer levels than this and a variance component is poorly estimated (Gelman & Hill
#: 2007, sec. 12.9; Bolker et al.'s GLMM FAQ; lme4 once warned below 5 levels).
MIN_LEVELS = 5
#: The threshold whose crossing the sensitivity verdict reports.
SIGNIFICANCE = 0.05


def _p(value: float) -> str:
    return f"{value:.2g}"


def sensitivity(candidates: Sequence[Candidate], effects: Sequence[str]) -> Sensitivity:
    """Does any effect change sign or cross p = 0.05 across the usable, distinct candidates?

    The verdict is ``"sensitive"`` when an effect is significant at 0.05 under some
    candidates and not under others, or changes sign while significant somewhere; a
    sign that varies among estimates no candidate tells apart from 0 changes no
    conclusion, and is reported but not counted.
    """
    usable = [c for c in candidates if c.usable and c.same_as is None]
    out, reasons = [], []
    for term in effects:
        rows = [(c.name, c.effect(term)) for c in usable if c.effect(term).estimable]
        rows = [(name, e) for name, e in rows if math.isfinite(e.p_value)]
        if len(rows) < 2:
            reasons.append(f"{term}: fewer than two usable candidates estimate it")
            continue
        lo = min(rows, key=lambda r: r[1].p_value)
        hi = max(rows, key=lambda r: r[1].p_value)
        signs = {math.copysign(1.0, e.estimate) for _, e in rows if e.estimate != 0}
        crosses = lo[1].p_value < SIGNIFICANCE <= hi[1].p_value
        item = EffectSensitivity(
            term, len(signs) > 1, crosses, lo[1].p_value, hi[1].p_value, lo[0], hi[0], len(rows)
        )
        out.append(item)
        span = (
            f"p from {_p(item.p_min)} ({item.p_min_candidate}) to {_p(item.p_max)} ({item.p_max_candidate})"
        )
        if item.sign_change and lo[1].p_value < SIGNIFICANCE:
            reasons.append(f"{term}: the sign changes across the {len(rows)} usable candidates ({span})")
        elif item.sign_change:
            reasons.append(
                f"{term}: not significant at 0.05 in any of the {len(rows)} usable candidates, whose "
                f"estimates differ in sign ({span}): no candidate tells it apart from 0"
            )
        elif item.crosses:
            reasons.append(f"{term}: significance at 0.05 depends on the model ({span})")
        else:
            side = "significant" if hi[1].p_value < SIGNIFICANCE else "not significant"
            direction = "positive" if signs == {1.0} else "negative" if signs == {-1.0} else "zero"
            reasons.append(
                f"{term}: {direction} and {side} at 0.05 in all {len(rows)} usable candidates ({span})"
            )
    if not effects:
        reasons.append(
            "no fixed effect of interest: the model has only an intercept (choose one with effects)"
        )
    if not out:
        verdict = "undetermined"
    elif any(e.crosses or (e.sign_change and e.p_min < SIGNIFICANCE) for e in out):
        verdict = "sensitive"
    else:
        verdict = "robust"
    return Sensitivity(verdict, tuple(reasons), tuple(out))


def recommend(
    candidates: Mapping[str, Candidate],
    selection: str,
    ngroups: Mapping[str, int],
    verdict: Sensitivity,
) -> tuple[str, tuple[str, ...]]:
    """The recommended candidate's name and the reasons, by the rule of this module's docstring.

    Parameters
    ----------
    candidates : mapping of name to Candidate
    selection : str
        Name of the simplification procedure's candidate (``lrt_selected`` or ``aic_selected``).
    ngroups : mapping of str to int
        Levels of each grouping factor of the user's model.
    verdict : Sensitivity
    """
    reasons: list[str] = []
    maximal = candidates["maximal"]
    few = {g: n for g, n in ngroups.items() if n < MIN_LEVELS}
    robust = candidates.get("cluster_robust")
    if maximal.fit is not None and not maximal.usable:
        said = maximal.diagnosis.verdict if maximal.diagnosis is not None else maximal.verdict
        reasons.append(f"the model as specified is not usable as it stands: {said}")
    chosen: str | None = None
    if few and robust is not None and robust.fit is not None:
        names = ", ".join(f"{g} has {n} levels" for g, n in few.items())
        chosen = "cluster_robust"
        reasons.append(
            f"{names} (fewer than {MIN_LEVELS}): a variance between so few levels is barely identifiable and "
            "mixed-model degrees of freedom are unreliable; OLS with CR2 cluster-robust standard errors and "
            "Satterthwaite df is the safer report"
        )
        reasons.append(
            "fixed_effects answers the question for these levels only; penalized keeps the design's "
            "random effects with variances off the boundary"
        )
    feasible = candidates.get("maximal_feasible")
    lost = [t for t in feasible.tests if t.unsafe_drop] if feasible is not None else []
    penalized = candidates.get("penalized")
    if chosen is None and lost and penalized is not None and penalized.usable:
        chosen = "penalized"
        names = ", ".join(t.parameter for t in lost)
        reasons.append(
            f"the simplified structures leave out {names}, a random slope of an effect of interest whose "
            "variance is not estimated at zero (its fits fail); without it that effect's test would be too "
            "liberal, and the penalised fit keeps it with every variance off the boundary"
        )
    if chosen is None:
        for name, why in (
            (
                selection,
                (
                    "the simplification procedure (backward elimination from the maximal feasible structure) "
                    "selects it, and its diagnosis finds it sound"
                ),
            ),
            ("maximal_feasible", "it is the largest structure that converges without a singular fit"),
        ):
            candidate = candidates.get(name)
            if candidate is not None and candidate.usable:
                chosen = name
                reasons.append(f"{name} ({candidate.formula}): {why}")
                kept = _kept_for_interest(candidate, feasible)
                if kept:
                    reasons.append(
                        f"it keeps the random slope{'s' if len(kept) > 1 else ''} of the effects of interest "
                        f"({', '.join(kept)}) whatever the LRT: leaving out a slope whose variance is not "
                        "estimated at zero makes its effect's test too liberal (Barr et al. 2013)"
                    )
                break
    if chosen is None:
        if penalized is not None and penalized.usable:
            chosen = "penalized"
            reasons.append(
                "no random-effects structure converges without a singular fit; the penalised fit keeps "
                "the design's structure with every variance off the boundary, and its optimisers agree"
            )
        else:
            chosen = "cluster_robust"
            reasons.append(
                "neither a simplified nor a penalised mixed model is usable; OLS with CR2 "
                "cluster-robust standard errors makes no assumption about the random effects"
            )
    if verdict.verdict == "sensitive":
        reasons.extend(_dissent(candidates, chosen, verdict))
    return chosen, tuple(reasons)


def _kept_for_interest(candidate: Candidate, feasible: Candidate | None) -> list[str]:
    """Random slopes of the effects of interest that the candidate keeps (from the stepwise tests)."""
    tests = [*(feasible.tests if feasible is not None else ()), *candidate.tests]
    kept = [t.parameter for t in tests if t.of_interest and t.action != "dropped" and ": (Intercept)" not in t.parameter]
    dropped = {t.parameter for t in tests if t.action == "dropped"}
    return [name for name in dict.fromkeys(kept) if name not in dropped]


def _dissent(candidates: Mapping[str, Candidate], chosen: str, verdict: Sensitivity) -> list[str]:
    """For each sensitive effect, the usable candidates whose conclusion differs from the chosen one's."""
    out = []
    mine = candidates[chosen]
    for item in verdict.effects:
        if not (item.crosses or (item.sign_change and item.p_min < SIGNIFICANCE)):
            continue
        own = mine.effect(item.term)
        if not own.estimable:
            continue
        significant = own.p_value < SIGNIFICANCE
        others = []
        for c in candidates.values():
            if c.name == chosen or not c.usable or c.same_as is not None:
                continue
            e = c.effect(item.term)
            if not e.estimable:
                continue
            differs = (e.p_value < SIGNIFICANCE) != significant or (
                significant and math.copysign(1.0, e.estimate) != math.copysign(1.0, own.estimate)
            )
            if differs:
                others.append(f"{c.name} (estimate {e.estimate:.4g}, p = {_p(e.p_value)})")
        if others:
            out.append(
                f"the conclusion about {item.term} depends on the model: {', '.join(others)} "
                f"{'disagrees' if len(others) == 1 else 'disagree'} with {chosen} (estimate "
                f"{own.estimate:.4g}, p = {_p(own.p_value)}); report {'it' if len(others) == 1 else 'them'} "
                f"beside {chosen}"
            )
    return out
