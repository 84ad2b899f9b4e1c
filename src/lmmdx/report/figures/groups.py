"""Per-group data with the model's line for each group and the pooled line.

The picture of partial pooling: where the model's lines run parallel to the pooled one
although each group's points tilt their own way, the model gives every group the same
slope (a random slope the data cannot support, or a variance estimated at 0).

For level ``g`` of the grouping factor and a covariate ``x``, the model's line has the
slope ``β_x + b_g,x`` (fixed slope plus the level's conditional mode) and passes through
the level's mean fitted value at its mean ``x``: the least-squares line of the fitted
values when ``x`` is the only covariate, the line "at the level's average of everything
else" otherwise. The pooled line is the same construction for the least-squares fit of
the fixed part alone (no grouping at all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .canvas import BASE, MAX_MARKS, POOLED, new_figure, sample_indices, spread_indices, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...result import Fit

__all__ = ["CAPTION", "GroupPanel", "GroupPanels", "group_figure", "group_panels"]

CAPTION = ("Each panel is one level of the grouping factor: its data (points), the model's line for that level "
           "(blue) and the pooled least-squares line that ignores the grouping (black, dashed). Blue lines that all "
           "run parallel to the black one, while the points tilt their own way, mean the model gives every level "
           "the same slope.")
#: At most this many levels get a panel (spread over the range of their conditional modes).
MAX_PANELS = 12


@dataclass(frozen=True, slots=True)
class GroupPanel:
    """One level's data and lines.

    Attributes
    ----------
    level : str
    n : int
        Observations of the level (``x`` and ``y`` may hold a sample of them).
    x, y : ndarray
        The covariate and the response (x is empty without a covariate).
    model, pooled : tuple of (float, float)
        Intercept and slope of the model's line for this level and of the pooled line
        (without a covariate: the level's mean fitted value, and 0).
    """

    level: str
    n: int
    x: np.ndarray
    y: np.ndarray
    model: tuple[float, float]
    pooled: tuple[float, float]


@dataclass(frozen=True, slots=True)
class GroupPanels:
    """What :func:`group_figure` draws.

    Attributes
    ----------
    factor : str
    covariate : str or None
    nlevels : int
        Levels of the factor (the panels show at most :data:`MAX_PANELS` of them).
    panels : tuple of GroupPanel
    binary : bool
        The covariate takes two values (points are spread sideways to be seen).
    """

    factor: str
    covariate: str | None
    nlevels: int
    panels: tuple[GroupPanel, ...]
    binary: bool


def _choose(fit: Fit, factor: str | None, covariate: str | None) -> tuple[str, str | None]:
    blocks = fit.model.design.blocks
    names = list(fit.fixed_names)
    if factor is None:
        slopes = [b for b in blocks if any(c != "(Intercept)" for c in b.columns)]
        factor = slopes[0].group if slopes else min(blocks, key=lambda b: b.nlevels).group
    mine = [b for b in blocks if b.group == factor]
    if not mine:
        raise ValueError(f"{factor!r} is not a grouping factor of {fit.formula}")
    if covariate is None:
        own = [c for b in mine for c in b.columns if c != "(Intercept)"]
        x = fit.model.design.X
        spread = [n for j, n in enumerate(names) if n != "(Intercept)" and np.unique(x[:, j]).size > 2]
        other = [n for n in names if n != "(Intercept)"]
        found = own or spread or other
        covariate = found[0] if found else None
    elif covariate not in names and not any(covariate in b.columns for b in mine):
        raise ValueError(f"{covariate!r} is not a column of the model")
    return factor, covariate


def _covariate_values(fit: Fit, covariate: str) -> np.ndarray:
    design = fit.model.design
    if covariate in fit.fixed_names:
        return np.asarray(design.X[:, list(fit.fixed_names).index(covariate)])
    block = next(b for b in design.blocks if covariate in b.columns)
    return np.asarray(block.values[:, block.columns.index(covariate)])


def _level_means(codes: np.ndarray, values: np.ndarray, nlevels: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=nlevels)
    return np.bincount(codes, weights=values, minlength=nlevels) / np.maximum(counts, 1)


def group_panels(fit: Fit, factor: str | None = None, covariate: str | None = None,
                 max_panels: int = MAX_PANELS) -> GroupPanels:
    """The data, model lines and pooled lines of (at most ``max_panels``) levels of ``factor``.

    Defaults: the grouping factor of the first term with a random slope (else the factor with
    fewest levels) and its first slope (else the first fixed-effect covariate with more than
    two values, else the first one; none for an intercept-only fixed part).
    """
    factor, covariate = _choose(fit, factor, covariate)
    design = fit.model.design
    block = next(b for b in design.blocks if b.group == factor)
    codes, nlevels = block.factor.codes, block.nlevels
    y = np.asarray(design.y)
    beta_pooled, *_ = np.linalg.lstsq(design.X, y, rcond=None)
    pooled_fitted = design.X @ beta_pooled
    names = list(fit.fixed_names)
    modes = [m for m in fit.conditional_modes if m.group == factor]
    if covariate is None:
        x = np.zeros(0)
        model_slope = np.zeros(nlevels)
        pooled_slope = 0.0
    else:
        x = _covariate_values(fit, covariate)
        fixed = float(fit.beta[names.index(covariate)]) if covariate in names else 0.0
        model_slope = fixed + sum((m.values[:, m.columns.index(covariate)] for m in modes
                                   if covariate in m.columns), start=np.zeros(nlevels))
        pooled_slope = float(beta_pooled[names.index(covariate)]) if covariate in names else 0.0
    shift = x if covariate is not None else np.zeros_like(y)
    model_icpt = _level_means(codes, np.asarray(fit.fitted) - model_slope[codes] * shift, nlevels)
    pooled_icpt = _level_means(codes, pooled_fitted - pooled_slope * shift, nlevels)
    ranking = model_slope if covariate is not None and np.ptp(model_slope) > 0 else model_icpt
    chosen = np.argsort(ranking, kind="stable")[spread_indices(nlevels, max_panels)]
    per_panel = max(MAX_MARKS // max(len(chosen), 1), 20)
    panels = []
    for level in chosen:
        rows = np.flatnonzero(codes == level)
        keep = rows[sample_indices(rows.size, per_panel)]
        panels.append(GroupPanel(block.factor.levels[level], int(rows.size),
                                 x[keep] if covariate is not None else np.zeros(0), y[keep],
                                 (float(model_icpt[level]), float(model_slope[level])),
                                 (float(pooled_icpt[level]), pooled_slope)))
    binary = covariate is not None and np.unique(x).size <= 2
    return GroupPanels(factor, covariate, nlevels, tuple(panels), bool(binary))


def _title(data: GroupPanels) -> str:
    shown = len(data.panels)
    which = (f"all {data.nlevels} levels" if shown == data.nlevels
             else f"{shown} of {data.nlevels:,} levels, spread over the range of their conditional modes")
    return f"{data.factor}: {which}"


@styled
def group_figure(data: GroupPanels) -> Figure:
    """Small multiples of :func:`group_panels` (one axis with every level when there is no covariate)."""
    if data.covariate is None:
        fig = new_figure(min(0.45 * len(data.panels) + 1.5, 10.0), 3.0)
        ax = fig.add_subplot()
        for i, panel in enumerate(data.panels):
            jitter = (np.arange(panel.y.size) % 7 - 3) * 0.05
            ax.plot(i + jitter, panel.y, "o", color=BASE, alpha=0.35, markersize=2.2)
            ax.hlines(panel.model[0], i - 0.35, i + 0.35, color=BASE, linewidth=2.0)
            ax.hlines(panel.pooled[0], i - 0.35, i + 0.35, color=POOLED, linewidth=1.2, linestyle="--")
        ax.set_xticks(range(len(data.panels)), [p.level for p in data.panels], rotation=90)
        ax.set_ylabel("response")
        fig.legend(handles=[ax.collections[0], ax.collections[1]],
                   labels=["model, this level (mean fitted value)", "pooled least squares"],
                   loc="outside lower center", ncols=2)
        fig.suptitle(_title(data), x=0.01, ha="left", fontsize=9)
        return fig
    ncols = min(len(data.panels), 4)
    nrows = math.ceil(len(data.panels) / ncols)
    fig = new_figure(2.4 * ncols + 0.4, 2.0 * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    every_x = np.concatenate([p.x for p in data.panels])
    lo, hi = float(np.min(every_x)), float(np.max(every_x))
    grid = np.array([lo, hi])
    wiggle = 0.04 * (hi - lo) if data.binary else 0.0
    for ax, panel in zip(axes.ravel(), data.panels, strict=False):
        offsets = ((np.arange(panel.x.size) * 7919) % 11 - 5) / 5.0 * wiggle
        ax.plot(panel.x + offsets, panel.y, "o", color=BASE, alpha=0.45, markersize=2.4)
        ax.plot(grid, panel.model[0] + panel.model[1] * grid, color=BASE, linewidth=1.6)
        ax.plot(grid, panel.pooled[0] + panel.pooled[1] * grid, color=POOLED, linewidth=1.0, linestyle="--")
        shown = "" if panel.x.size == panel.n else f", {panel.x.size} of {panel.n:,} shown"
        ax.set_title(f"{panel.level} (n = {panel.n:,}{shown})", loc="left", fontsize=8)
    for ax in axes.ravel()[len(data.panels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(data.covariate)
    fig.suptitle(_title(data), x=0.01, ha="left", fontsize=9)
    fig.legend(handles=axes.ravel()[0].lines[1:3], labels=["model, this level", "pooled least squares"],
               loc="outside lower center", ncols=2)
    return fig
