"""Caterpillar plots: each level's conditional mode with its interval, sorted (lme4's ``dotplot(ranef())``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from .canvas import BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...result import ConditionalModes

__all__ = ["BAND_LEVELS", "CAPTION", "caterpillar"]

CAPTION = ("Each level's conditional mode (BLUP) with its 95% interval, sorted by the first effect of the term: "
           "intervals that all cover 0 mean the data barely tell the levels apart; a column of zeros is a "
           "variance the fit set to 0.")
#: Terms with more levels than this are drawn as a band (the intervals' envelope) and a line.
BAND_LEVELS = 300
#: Level names are written on the axis up to this many levels.
_LABELLED = 40


def _panel(ax: Axes, modes: np.ndarray, half: np.ndarray, order: np.ndarray, labels: Sequence[str]) -> None:
    rank = np.arange(order.size)
    centre, width = modes[order], half[order]
    if order.size > BAND_LEVELS:
        ax.fill_betweenx(rank, centre - width, centre + width, color=BASE, alpha=0.25, linewidth=0)
        ax.plot(centre, rank, color=BASE, linewidth=0.9)
    else:
        ax.hlines(rank, centre - width, centre + width, color=BASE, linewidth=1.0)
        ax.plot(centre, rank, "o", color=BASE, markersize=2.8)
    ax.axvline(0.0, color=MUTED, linewidth=0.8, zorder=0)
    ax.set_ylim(-1, order.size)
    if order.size <= _LABELLED:
        ax.set_yticks(rank, [labels[i] for i in order])
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{order.size:,} levels, sorted")


@styled
def caterpillar(modes: Sequence[ConditionalModes], variances: Sequence[np.ndarray], level: float = 0.95,
                group: str | None = None) -> Figure:
    """One panel per random effect: sorted modes with ``level`` intervals (± z·√conditional variance).

    Parameters
    ----------
    modes : sequence of ConditionalModes
        :attr:`Fit.conditional_modes`.
    variances : sequence of ndarray
        :meth:`Fit.conditional_variances`, aligned with ``modes``.
    level : float
    group : str, optional
        Only the terms of this grouping factor.

    A term's levels are sorted by its first effect in every panel of the term (as lme4's
    ``dotplot``); terms with more than :data:`BAND_LEVELS` levels are drawn as a band.
    """
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    terms = [(m, v) for m, v in zip(modes, variances, strict=True) if group is None or m.group == group]
    if not terms:
        raise ValueError(f"no random-effects term has the grouping factor {group!r}")
    ncols = max(m.values.shape[1] for m, _ in terms)
    heights = [min(0.14 * len(m.levels), 2.6) + 0.7 if len(m.levels) <= _LABELLED else 2.6 for m, _ in terms]
    fig = new_figure(min(3.4 * ncols + 0.8, 10.0), sum(heights) + 0.2)
    grid = fig.add_gridspec(len(terms), ncols, height_ratios=heights)
    for row, (m, v) in enumerate(terms):
        half = z * np.sqrt(np.maximum(np.diagonal(v, axis1=1, axis2=2), 0.0))
        order = np.argsort(m.values[:, 0], kind="stable")
        for col, name in enumerate(m.columns):
            ax = fig.add_subplot(grid[row, col])
            _panel(ax, m.values[:, col], half[:, col], order, m.levels)
            ax.set_title(f"{m.group}: {name}", loc="left")
            if col:
                ax.set_yticklabels([])
    return fig

