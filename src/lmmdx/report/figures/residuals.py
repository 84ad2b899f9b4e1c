"""Residuals against fitted values, and normal QQ plots of the residuals and of each random effect."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from .canvas import ACCENT, BASE, MAX_MARKS, MUTED, POOLED, new_figure, spread_indices, styled

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...result import ConditionalModes

__all__ = ["CAPTION", "QQ_POINTS", "SCATTER_POINTS", "qq_points", "residual_figure"]

CAPTION = ("Residuals against fitted values should be a band of even width around 0 (a funnel is unequal "
           "variance, a curve a missing term); in the QQ plots the points should follow the line (ends bending "
           "away are heavy tails or outlying levels; a random effect at 0 throughout has a variance of 0).")
#: Up to this many observations the residuals are drawn one by one; beyond, in a 2-D histogram.
SCATTER_POINTS = MAX_MARKS
#: QQ plots of larger samples show this many quantiles, evenly spread in probability.
QQ_POINTS = 500
_BINS = (90, 60)
#: The residuals' running mean: in at most this many bins of fitted values (at least 25 points each).
_MEAN_BINS = 20


def qq_points(values: np.ndarray, limit: int = QQ_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Normal quantiles and sorted sample values (at most ``limit`` pairs, evenly spread)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    n = values.size
    probs = (np.arange(1, n + 1) - 0.5) / n
    keep = spread_indices(n, limit)
    return stats.norm.ppf(probs[keep]), values[keep]


def _qq(ax: Axes, values: np.ndarray, title: str) -> None:
    theory, sample = qq_points(values)
    ax.plot(theory, sample, "o", color=BASE, markersize=2.2, alpha=0.8)
    q1, q3 = np.quantile(values, [0.25, 0.75])
    slope = (q3 - q1) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    if slope > 0 and np.isfinite(slope):
        ends = np.array([theory[0], theory[-1]])
        ax.plot(ends, q1 + slope * (ends - stats.norm.ppf(0.25)), color=POOLED, linewidth=0.9)
    shown = "" if theory.size == values.size else f" ({theory.size} of {values.size:,} quantiles shown)"
    ax.set_title(title, loc="left")
    ax.set_xlabel("normal quantile" + shown)


def _against_fitted(ax: Axes, fitted: np.ndarray, resid: np.ndarray) -> None:
    n = fitted.size
    if n <= SCATTER_POINTS:
        ax.plot(fitted, resid, "o", color=BASE, markersize=2.4, alpha=0.6)
        ax.set_xlabel("fitted value")
    else:
        counts, xe, ye = np.histogram2d(fitted, resid, bins=_BINS)
        shown = np.where(counts > 0, np.log10(np.maximum(counts, 1)) + 0.3, np.nan)
        ax.imshow(shown.T, origin="lower", extent=(xe[0], xe[-1], ye[0], ye[-1]), aspect="auto", cmap="Blues",
                  interpolation="nearest")
        ax.set_xlabel(f"fitted value ({n:,} points in {_BINS[0]} × {_BINS[1]} bins; shade: log count)")
    bins = int(min(_MEAN_BINS, max(n // 25, 2)))
    edges = np.quantile(fitted, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, fitted, side="right") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    means = np.bincount(which, weights=resid, minlength=bins) / np.maximum(counts, 1)
    centres = np.bincount(which, weights=fitted, minlength=bins) / np.maximum(counts, 1)
    ax.plot(centres[counts > 0], means[counts > 0], color=ACCENT, linewidth=1.2,
            label=f"mean in {bins} bins of fitted values")
    ax.axhline(0.0, color=MUTED, linewidth=0.8)
    ax.set_title("Residuals vs fitted", loc="left")
    ax.set_ylabel("residual")
    ax.legend(loc="upper right")


@styled
def residual_figure(fitted: np.ndarray, residuals: np.ndarray, sigma: float,
                    modes: Sequence[ConditionalModes] = ()) -> Figure:
    """Residuals vs fitted, a normal QQ plot of the scaled residuals, and one of each random effect.

    Parameters
    ----------
    fitted, residuals : ndarray, shape (n,)
    sigma : float
        Residual SD (the QQ plot shows residuals / σ).
    modes : sequence of ConditionalModes
        Conditional modes of each term (one QQ panel per term and column).
    """
    effects = [(f"{m.group}: {c}", m.values[:, j]) for m in modes for j, c in enumerate(m.columns)]
    panels = 2 + len(effects)
    ncols = 3 if panels > 2 else 2
    nrows = math.ceil(panels / ncols)
    fig = new_figure(3.3 * ncols, 2.8 * nrows)
    grid = fig.add_gridspec(nrows, ncols)
    _against_fitted(fig.add_subplot(grid[0, 0]), np.asarray(fitted), np.asarray(residuals))
    scale = sigma if sigma > 0 else 1.0
    _qq(fig.add_subplot(grid[0, 1]), np.asarray(residuals) / scale, "Scaled residuals")
    for i, (title, values) in enumerate(effects, start=2):
        _qq(fig.add_subplot(grid[i // ncols, i % ncols]), values, f"Random effect {title}")
    return fig
