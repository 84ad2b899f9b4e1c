"""Stepwise random-effects selection: the maximal feasible structure, then backward elimination.

* Maximal feasible structure (Barr, Levy, Scheepers & Tily 2013, "keep it maximal",
  as buildmer implements it): random effects are added one at a time in the order
  of the user's formula; one whose fit is singular or does not converge is tried
  once more without its correlations, and otherwise left out.
* Backward elimination (Matuschek, Kliegl, Vasishth, Baayen & Bates 2017): from
  the maximal feasible structure, the random effect whose removal the data object
  to least is dropped while its likelihood-ratio test has p > α = 0.2, with the
  p-value of the boundary-corrected chi-bar-square mixture (Self & Liang 1987,
  Stram & Lee 1994); or while dropping it does not raise AIC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ..inference.lrt import compare
from .refit import FitCache, Refit, feasible
from .structure import CovBlock, Structure, parameter_name

__all__ = ["LRT_ALPHA", "Selection", "TermTest", "backward_elimination", "maximal_feasible"]

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
    """

    parameter: str
    action: str
    test: str
    statistic: float | None = None
    df: tuple[int, int] | None = None
    p_value: float | None = None
    aic_change: float | None = None
    note: str = ""

    def describe(self) -> str:
        """One line: ``dropped group: x (LRT χ̄²(0:1) = 0.41, p = 0.26)``."""
        detail = self.note
        if self.test == "lrt" and self.statistic is not None and self.df is not None:
            p = f"p = {self.p_value:.3g}" if self.p_value else "p < 1e-300"
            detail = f"LRT χ̄²({self.df[0]}:{self.df[1]}) = {self.statistic:.3g}, {p}"
        elif self.test == "aic" and self.aic_change is not None:
            detail = f"ΔAIC without it = {self.aic_change:+.3g}"
        return f"{self.action} {self.parameter} ({detail})"


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


def _why_not(refit: Refit) -> str:
    if refit.fit is None:
        return f"cannot be fitted: {refit.error}"
    if not refit.fit.converged:
        return "the fit with it does not converge"
    return "the fit with it is singular"


def maximal_feasible(full: Structure, cache: FitCache) -> Selection:
    """The largest structure, built in formula order, whose fit converges and is not singular."""
    accepted: list[CovBlock] = []
    tests: list[TermTest] = []

    def trial(blocks: list[CovBlock]) -> Refit:
        return cache.fit(Structure(full.response, full.fixed, tuple(blocks)))

    for block in full.blocks:
        core: list[str] = []
        at: int | None = None
        for effect in block.effects:
            name = parameter_name(block.group_name, effect)
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
                tests.append(TermTest(name, "kept", "feasibility", note="converges and is not singular"))
                continue
            reason = _why_not(refit)
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
                        )
                    )
                    continue
            tests.append(TermTest(name, "dropped", "feasibility", note=reason))
    if not accepted:
        return Selection(None, tuple(tests))
    return Selection(Structure(full.response, full.fixed, tuple(accepted)), tuple(tests))


def backward_elimination(
    start: Structure,
    cache: FitCache,
    criterion: Literal["lrt", "aic"] = "lrt",
    alpha: float = LRT_ALPHA,
    mapper: Mapper = map,
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
    """
    current = start
    tests: list[TermTest] = []
    while True:
        base = cache.fit(current)
        if base.fit is None:
            break
        removable = current.removable()
        reduced = list(mapper(cache.fit, [current.without(g, e) for g, e in removable]))
        options = []
        for (group, effect), refit in zip(removable, reduced, strict=True):
            if refit.fit is None:
                continue
            test = compare(refit.fit, base.fit)
            p = test.p_value_boundary if test.p_value_boundary is not None else test.p_value
            mixture = tuple(d for _, d in test.mixture)
            df = (mixture[0], mixture[-1]) if mixture else (test.df, test.df)
            options.append(
                (parameter_name(group, effect), refit, test.statistic, df, p, refit.fit.aic - base.fit.aic)
            )
        if not options:
            break
        if criterion == "lrt":
            best = max(options, key=lambda o: o[4])
            drop = best[4] > alpha
        else:
            best = min(options, key=lambda o: o[5])
            drop = best[5] <= 0.0
        if drop:
            tests.append(TermTest(best[0], "dropped", criterion, best[2], best[3], best[4], best[5]))
            current = best[1].structure
            continue
        tests.extend(TermTest(o[0], "kept", criterion, o[2], o[3], o[4], o[5]) for o in options)
        break
    return Selection(current, tuple(tests))
