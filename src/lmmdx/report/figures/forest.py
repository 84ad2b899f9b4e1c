"""Forest plot: each effect of interest under each usable candidate model, with its 95% CI."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .canvas import ACCENT, BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...remedy.result import RemedyReport

__all__ = ["CAPTION", "ForestRow", "forest_figure", "forest_rows"]

CAPTION = ("Each effect of interest under each usable candidate model (converged, not singular, diagnosed sound), "
           "with its 95% confidence interval; the recommended model is highlighted. Intervals that all lie on the "
           "same side of 0 mean the conclusion does not depend on the choice of model.")


@dataclass(frozen=True, slots=True)
class ForestRow:
    """One candidate's estimate of one effect.

    Attributes
    ----------
    name : str
        The candidate (an earlier candidate fitting the same model stands for the later ones).
    label : str
        The name and, on a second line, the later candidates that are the same model
        (``"zero_correlation\\n= lrt_selected"``).
    estimate, lower, upper, p_value : float
    recommended : bool
    usable : bool
        False only for a recommended candidate that is not usable (shown so that it is seen).
    """

    name: str
    label: str
    estimate: float
    lower: float
    upper: float
    p_value: float
    recommended: bool
    usable: bool = True


def forest_rows(report: RemedyReport, term: str) -> tuple[ForestRow, ...]:
    """One row per usable, distinct candidate that estimates ``term``, in the report's order."""
    selected = report.selected_candidate
    target = selected.same_as or selected.name
    aliases: dict[str, list[str]] = {}
    for c in report.candidates:
        if c.same_as is not None:
            aliases.setdefault(c.same_as, []).append(c.name)
    rows = []
    for c in report.candidates:
        if c.same_as is not None:
            continue
        e = c.effect(term)
        if not e.estimable or not (c.usable or c.name == target):
            continue
        label = _label(c.name, aliases.get(c.name, []))
        rows.append(ForestRow(c.name, label, e.estimate, e.ci_lower, e.ci_upper, e.p_value, c.name == target,
                              c.usable))
    return tuple(rows)


def _label(name: str, same: list[str]) -> str:
    """``name`` and, on a second line, the later candidates that fit the same model."""
    if not same:
        return name
    return name + "\n" + textwrap.shorten("= " + " = ".join(same), 48, placeholder=" …")


def _p(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return "p < 1e-4" if value < 1e-4 else f"p = {value:.2g}"


@styled
def forest_figure(report: RemedyReport, effects: tuple[str, ...] | None = None) -> Figure:
    """One panel per effect of interest (all of the report's by default)."""
    terms = report.effects if effects is None else effects
    if not terms:
        raise ValueError("the report has no effect of interest")
    tables = [(term, forest_rows(report, term)) for term in terms]
    heights = [0.38 * max(len(rows), 1) + 0.8 for _, rows in tables]
    fig = new_figure(7.0, sum(heights) + 0.2)
    grid = fig.add_gridspec(len(tables), 1, height_ratios=heights)
    verdicts = {e.term: e for e in report.sensitivity.effects}
    for i, (term, rows) in enumerate(tables):
        ax = fig.add_subplot(grid[i, 0])
        at = np.arange(len(rows))
        for y, row in zip(at, rows, strict=True):
            colour = ACCENT if row.recommended else BASE
            if row.recommended:
                ax.axhspan(y - 0.45, y + 0.45, color=ACCENT, alpha=0.1, linewidth=0)
            ax.hlines(y, row.lower, row.upper, color=colour, linewidth=2.0 if row.recommended else 1.3)
            ax.plot(row.estimate, y, "D" if row.recommended else "o", color=colour, markersize=5,
                    markerfacecolor=colour if row.usable else "white")
            ax.annotate(_p(row.p_value), (1.0, y), xycoords=("axes fraction", "data"), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=7.5, color=MUTED)
        ax.axvline(0.0, color=MUTED, linewidth=0.8)
        labels = [(r.name + " (recommended)" + r.label[len(r.name):]) if r.recommended else r.label for r in rows]
        ax.set_yticks(at, labels)
        for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
            if row.recommended:
                tick.set_fontweight("bold")
                tick.set_fontsize(8)
                tick.set_color(ACCENT)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        verdict = verdicts.get(term)
        moves = ""
        if verdict is not None:
            moves = ("; the sign changes" if verdict.sign_change else "") + (
                "; p crosses 0.05" if verdict.crosses else "")
        ax.set_title(f"{term}: estimate and 95% CI ({report.sensitivity.verdict}{moves})", loc="left")
    return fig
