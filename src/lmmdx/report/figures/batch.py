"""A batch's aggregated findings: fits per finding code (and parameter), most frequent first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .canvas import ACCENT, BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...batch.summary import BatchSummary

__all__ = ["CAPTION", "MAX_BARS", "batch_bars", "batch_figure"]

CAPTION = ("Fits per finding code and parameter (blue), fits that failed (red) and clean fits (grey), most frequent "
           "first: the problems the design causes across the whole batch.")
#: At most this many bars; the rest are counted in one more.
MAX_BARS = 25


def batch_bars(summary: BatchSummary) -> tuple[list[str], list[int], list[str]]:
    """Labels, counts and colours of the bars."""
    labels = [f"{code}: {parameter}" if parameter else code for code, parameter, _ in summary.counts]
    counts = [n for _, _, n in summary.counts]
    colours = [BASE] * len(labels)
    if len(labels) > MAX_BARS:
        rest = len(labels) - MAX_BARS + 1
        labels = labels[: MAX_BARS - 1] + [f"{rest} other codes"]
        counts = counts[: MAX_BARS - 1] + [sum(counts[MAX_BARS - 1 :])]
        colours = colours[:MAX_BARS]
    if summary.n_failed:
        labels.append("failed (error)")
        counts.append(summary.n_failed)
        colours.append(ACCENT)
    labels.append("clean (no finding)")
    counts.append(summary.n_clean)
    colours.append(MUTED)
    return labels, counts, colours


@styled
def batch_figure(summary: BatchSummary) -> Figure:
    """Horizontal bars, one per code and parameter, with the count written at the end."""
    labels, counts, colours = batch_bars(summary)
    fig = new_figure(7.0, 0.26 * len(labels) + 1.0)
    ax = fig.add_subplot()
    rows = np.arange(len(labels))
    ax.barh(rows, counts, color=colours, height=0.7)
    for y, n in zip(rows, counts, strict=True):
        ax.annotate(f"{n:,}", (n, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5)
    ax.set_yticks(rows, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel(f"fits (of {summary.n_fits:,})")
    ax.set_xlim(0, max(max(counts, default=1), 1) * 1.12)
    return fig
