"""Stepwise random-effects selection: the maximal feasible structure, then backward elimination.

* Maximal feasible structure (Barr, Levy, Scheepers & Tily 2013, "keep it maximal",
  as buildmer implements it): random effects are added one at a time in the order
  of the user's formula; one whose fit is singular or does not converge is tried
  once more without its correlations, and otherwise left out. Each drop says
  whether the effect's own variance was estimated at zero (then the model without
  it is the same fit: nothing about the fixed effects changes) or something else
  failed.
* Backward elimination (Matuschek, Kliegl, Vasishth, Baayen & Bates 2017): from
  the maximal feasible structure, the random effect whose removal the data object
  to least is dropped while its likelihood-ratio test has p > α = 0.2, with the
  p-value of the boundary-corrected chi-bar-square mixture (Self & Liang 1987,
  Stram & Lee 1994); or while dropping it does not raise AIC.

Random slopes of the effects of interest are never eliminated by a test. A slope
carries the between-group variation of its effect; the fixed effect's standard
error needs it, and dropping it because a test at α = 0.2 cannot tell its variance
from zero is what inflates that effect's type I error (Barr et al. 2013; Barr 2013,
"random effects structure for testing interactions"; Oberauer 2022). On the seed
design with x ~ U(0, 10), ``(1 | group)`` finds a null x significant in 9% of data
sets, the recommendation that keeps the slope in 3.4% (``bench/remedy_calibration.py``).
Such a slope leaves the model only when its variance is estimated at zero (a
boundary fit, where the model without it is the same fit), and its correlations
only when they cannot be estimated (the zero-correlation form is the feasible
one). The other random effects (slopes of nuisance covariates, intercepts of
other grouping factors) are selected as Matuschek et al. propose; buildmer's
``include`` keeps chosen terms out of its elimination the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ..design import Design
from ..design.terms import fixed_terms
from ..errors import LmmdxError
from ..inference.lrt import compare
from .refit import FitCache, Refit, feasible
from .structure import INTERCEPT, CovBlock, Structure, parameter_name

__all__ = [
    "LRT_ALPHA",
    "Selection",
    "TermTest",
    "backward_elimination",
    "effect_variables",
    "interest_variables",
    "maximal_feasible",
    "of_interest",
]

#: Matuschek et al. (2017): α_LRT = 0.2 balances type I error and power.
LRT_ALPHA = 0.2

Mapper = Callable[[Callable[[Structure], Refit], Iterable[Structure]], Iterable[Refit]]


@dataclass(frozen=True, slots=True)
class TermTest:
    """Why one random effect was kept or dropped.

    Attributes
    ----------
    parameter : str
        The random effect as the diagnosis names it, ``"group: x"``.
    action : str
        ``"kept"``, ``"kept without correlations"`` or ``"dropped"``.
    test : str
        ``"lrt"``, ``"aic"`` or ``"feasibility"``.
    statistic : float or None
        Likelihood-ratio statistic (difference of the REML or ML criteria).
    df : tuple of int or None
        Degrees of freedom of the 50:50 chi-bar-square mixture, e.g. ``(0, 1)``.
    p_value : float or None
        Boundary-corrected p-value.
    aic_change : float or None
        AIC of the model without the effect minus AIC of the model with it.
    note : str
        The plain-language reason.
    of_interest : bool
        The random effect belongs to an effect of interest (see :func:`of_interest`).
    at_zero : bool
        Dropped for feasibility because its own variance was estimated at zero (the
        model without it is the same fit), rather than because a fit failed.
    """

    parameter: str
    action: str
    test: str
    statistic: float | None = None
    df: tuple[int, int] | None = None
    p_value: float | None = None
    aic_change: float | None = None
    note: str = ""
    of_interest: bool = False
    at_zero: bool = False

    def describe(self) -> str:
        """One line: ``dropped group: x (LRT χ̄²(0:1) = 0.41, p = 0.26)``."""
        detail = self.note
        if self.test == "lrt" and self.statistic is not None and self.df is not None:
            p = f"p = {self.p_value:.3g}" if self.p_value else "p < 1e-300"
            detail = f"LRT χ̄²({self.df[0]}:{self.df[1]}) = {self.statistic:.3g}, {p}"
        elif self.test == "aic" and self.aic_change is not None:
            detail = f"ΔAIC without it = {self.aic_change:+.3g}"
        if self.test != "feasibility" and self.note:
            detail = f"{detail}; {self.note}"
        return f"{self.action} {self.parameter} ({detail})"

    @property
    def unsafe_drop(self) -> bool:
        """A random effect of an effect of interest left out although its variance was not estimated at zero."""
        return self.of_interest and self.action == "dropped" and not self.at_zero


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of a stepwise procedure.

    Attributes
    ----------
    structure : Structure or None
        The selected structure (None when no random effect survives).
    tests : tuple of TermTest
        Every decision, in the order taken.
    """

    structure: Structure | None
    tests: tuple[TermTest, ...]


#: Note on a random effect of an effect of interest that no test removes.
KEPT_FOR_INTEREST = "a random slope of an effect of interest: kept whatever the test (Barr et al. 2013)"


def effect_variables(effect: str) -> frozenset[str]:
    """The variables a term multiplies: ``"x:z"`` → {x, z}, ``"poly(x, 2)"`` → {poly(x, 2)}, ``"1"`` → {}.

    The term is split at its top-level colons (formulaic writes an interaction that way);
    colons inside parentheses belong to an expression.
    """
    if effect == INTERCEPT:
        return frozenset()
    parts, depth, start = [], 0, 0
    for i, char in enumerate(effect):
        depth += char == "("
        depth -= char == ")"
        if char == ":" and depth == 0:
            parts.append(effect[start:i].strip())
            start = i + 1
    parts.append(effect[start:].strip())
    return frozenset(p for p in parts if p)


def interest_variables(design: Design, effects: Collection[str]) -> tuple[frozenset[str], ...]:
    """The variables of the fixed-part term of each effect of interest (X column name).

    ``fB`` (a level of factor ``f``) belongs to the term ``f``; ``x:z`` to the term
    ``x:z``. The intercept has no variables (its random counterpart is the intercept).
    """
    wanted = set(effects)
    out: list[frozenset[str]] = []
    names = design.fixed.names
    try:
        terms = fixed_terms(design).terms
    except LmmdxError:  # the fixed part cannot be re-evaluated: read the column names as terms
        terms = ()
    found: set[str] = set()
    for term in terms:
        mine = {names[j] for j in term.columns} & wanted
        if mine:
            out.append(term.variables)
            found |= mine
    out.extend(effect_variables(name) for name in sorted(wanted - found) if name != "(Intercept)")
    if "(Intercept)" in wanted:
        out.append(frozenset())
    return tuple(dict.fromkeys(out))


def of_interest(structure: Structure, interest: Collection[frozenset[str]]) -> frozenset[tuple[str, str]]:
    """``(group, effect)`` of each random effect that belongs to an effect of interest.

    A random slope belongs to an effect when its variables are among the effect's
    (the slope of ``x`` for ``x``; the slopes of ``x``, ``z`` and ``x:z`` for ``x:z``:
    Barr 2013's rule for interactions asks for the highest-order ones present, the
    lower ones keep their own effects honest). The random intercepts belong to the
    fixed intercept, when it is of interest.
    """
    out = set()
    for group, effect in structure.dimensions():
        mine = effect_variables(effect)
        for variables in interest:
            if (mine and mine <= variables) or (not mine and not variables):
                out.add((group, effect))
    return frozenset(out)


def _at_zero(refit: Refit, group: str, effect: str) -> bool:
    """Whether ``effect`` of ``group``, alone in a scalar block of ``refit``, has its variance at zero.

    Blocks of one grouping factor keep their formula order in the design (its terms are
    sorted stably by number of levels), so the design blocks of ``group`` pair up with the
    structure's; "at zero" is :mod:`lmmdx.boundary`'s (every column of the block has a
    zero variance).
    """
    fit = refit.fit
    if fit is None:
        return False
    mine = [b for b in refit.structure.blocks if b.group_name == group]
    design_blocks = [i for i, b in enumerate(fit.model.design.blocks) if b.group == group]
    if len(mine) != len(design_blocks):
        return False
    where = fit.model.boundary(np.asarray(fit.theta_internal))
    for block, index in zip(mine, design_blocks, strict=True):
        if block.effects == (effect,):
            k = fit.model.design.blocks[index].k
            return len(where[index].zero_effects) == k
    return False


def _why_not(refit: Refit, group: str, effect: str) -> tuple[str, bool]:
    """Why a trial with ``effect`` is not feasible, and whether it is because its variance is zero."""
    if refit.fit is None:
        return f"cannot be fitted: {refit.error}", False
    if not refit.fit.converged:
        return "the fit with it does not converge", False
    if _at_zero(refit, group, effect):
        return "its variance is estimated at zero (the model without it is the same fit)", True
    return "the fit with it is singular", False


def maximal_feasible(
    full: Structure, cache: FitCache, keep: Collection[tuple[str, str]] = frozenset()
) -> Selection:
    """The largest structure, built in formula order, whose fit converges and is not singular.

    Parameters
    ----------
    full : Structure
    cache : FitCache
    keep : collection of (group, effect)
        Random effects of the effects of interest (:func:`of_interest`): their tests are
        marked, so that a drop for any reason but a zero variance can be seen.
    """
    accepted: list[CovBlock] = []
    tests: list[TermTest] = []

    def trial(blocks: list[CovBlock]) -> Refit:
        return cache.fit(Structure(full.response, full.fixed, tuple(blocks)))

    for block in full.blocks:
        core: list[str] = []
        at: int | None = None
        for effect in block.effects:
            name = parameter_name(block.group_name, effect)
            interest = (block.group_name, effect) in keep
            blocks = list(accepted)
            grown = CovBlock(block.group, (*core, effect))
            if at is None:
                blocks.append(grown)
            else:
                blocks[at] = grown
            refit = trial(blocks)
            if feasible(refit):
                accepted, core = blocks, [*core, effect]
                at = len(accepted) - 1 if at is None else at
                tests.append(
                    TermTest(
                        name,
                        "kept",
                        "feasibility",
                        note="converges and is not singular",
                        of_interest=interest,
                    )
                )
                continue
            reason, zero = _why_not(refit, block.group_name, effect)
            if core:
                alone = [*accepted, CovBlock(block.group, (effect,))]
                split = trial(alone)
                if feasible(split):
                    accepted = alone
                    tests.append(
                        TermTest(
                            name,
                            "kept without correlations",
                            "feasibility",
                            note=f"{reason}; without its correlations it is not",
                            of_interest=interest,
                        )
                    )
                    continue
                alone_reason, zero = _why_not(split, block.group_name, effect)
                reason = f"{reason}; without its correlations, {alone_reason}"
            if interest and not zero:
                reason += "; it belongs to an effect of interest, whose test may be too liberal without it"
            tests.append(
                TermTest(name, "dropped", "feasibility", note=reason, of_interest=interest, at_zero=zero)
            )
    if not accepted:
        return Selection(None, tuple(tests))
    return Selection(Structure(full.response, full.fixed, tuple(accepted)), tuple(tests))


def backward_elimination(
    start: Structure,
    cache: FitCache,
    criterion: Literal["lrt", "aic"] = "lrt",
    alpha: float = LRT_ALPHA,
    mapper: Mapper = map,
    keep: Collection[tuple[str, str]] = frozenset(),
) -> Selection:
    """Drop random effects one at a time while the data do not object.

    Parameters
    ----------
    start : Structure
        Usually the maximal feasible structure.
    cache : FitCache
    criterion : {"lrt", "aic"}
        Likelihood-ratio test at ``alpha`` (boundary-corrected), or AIC.
    alpha : float
    mapper : callable
        ``map``-like function used to fit the reduced models of one step (e.g. a thread pool's).
    keep : collection of (group, effect)
        Random effects of the effects of interest (:func:`of_interest`): tested and
        reported, never dropped.
    """
    current = start
    tests: list[TermTest] = []
    while True:
        base = cache.fit(current)
        if base.fit is None:
            break
        removable = current.removable()
        reduced = list(mapper(cache.fit, [current.without(g, e) for g, e in removable]))
        options: list[tuple[TermTest, Structure]] = []
        for (group, effect), refit in zip(removable, reduced, strict=True):
            if refit.fit is None:
                continue
            test = compare(refit.fit, base.fit)
            p = test.p_value_boundary if test.p_value_boundary is not None else test.p_value
            mixture = tuple(d for _, d in test.mixture)
            df = (mixture[0], mixture[-1]) if mixture else (test.df, test.df)
            interest = (group, effect) in keep
            note = KEPT_FOR_INTEREST if interest else ""
            aic = refit.fit.aic - base.fit.aic
            term = TermTest(
                parameter_name(group, effect), "kept", criterion, test.statistic, df, p, aic, note, interest
            )
            options.append((term, refit.structure))
        droppable = [o for o in options if not o[0].of_interest]
        drop: tuple[TermTest, Structure] | None = None
        if droppable and criterion == "lrt":
            best = max(droppable, key=lambda o: _p(o[0]))
            drop = best if _p(best[0]) > alpha else None
        elif droppable:
            best = min(droppable, key=lambda o: _aic(o[0]))
            drop = best if _aic(best[0]) <= 0.0 else None
        if drop is not None:
            tests.append(replace(drop[0], action="dropped"))
            current = drop[1]
            continue
        tests.extend(o[0] for o in options)
        break
    return Selection(current, tuple(tests))


def _p(test: TermTest) -> float:
    return test.p_value if test.p_value is not None else 0.0


def _aic(test: TermTest) -> float:
    return test.aic_change if test.aic_change is not None else float("inf")
