"""The optimiser-agreement check: the criterion each refit reached, relative to the best."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .canvas import ACCENT, BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...diagnose.tables import OptimizerRun

__all__ = ["CAPTION", "FLOOR", "draw_runs", "run_gaps", "runs_figure"]

CAPTION = ("The criterion each optimiser reached from each start, above the best one (log scale): runs left of the "
           "dashed line agree on the optimum; a run far to the right stopped elsewhere (open circles: the optimiser "
           "reported no convergence; crosses: the refit failed).")
#: Differences below this are drawn at it (a log scale has no 0).
FLOOR = 1e-12


def run_gaps(runs: Sequence[OptimizerRun]) -> tuple[list[str], np.ndarray]:
    """Labels and criterion − best of each run (NaN for failed refits)."""
    values = [r.objective for r in runs if r.objective is not None and np.isfinite(r.objective)]
    best = min(values) if values else np.nan
    labels = [f"{r.optimizer} ({'the fit' if r.start == 'fit' else r.start + ' start'})" for r in runs]
    gaps = np.array([np.nan if r.objective is None else r.objective - best for r in runs], dtype=np.float64)
    return labels, gaps


def draw_runs(ax: Axes, runs: Sequence[OptimizerRun], tolerance: float) -> None:
    """One row per run at ``max(criterion − best, FLOOR)``; the agreement tolerance dashed."""
    labels, gaps = run_gaps(runs)
    rows = np.arange(len(runs))
    shown = np.where(np.isfinite(gaps), np.maximum(gaps, FLOOR), FLOOR)
    converged = np.array([r.converged for r in runs], dtype=bool)
    ok = np.isfinite(gaps)
    ax.plot(shown[ok & converged], rows[ok & converged], "o", color=BASE, markersize=5)
    ax.plot(shown[ok & ~converged], rows[ok & ~converged], "o", markerfacecolor="white", markeredgecolor=ACCENT,
            markersize=5)
    ax.plot(shown[~ok], rows[~ok], "x", color=ACCENT, markersize=6)
    ax.axvline(tolerance, color=MUTED, linestyle="--", linewidth=0.9)
    ax.set_xscale("log")
    ax.set_xlim(FLOOR / 3, max(float(np.nanmax(shown)) if shown.size else 1.0, tolerance) * 30)
    ax.set_yticks(rows, labels)
    ax.set_ylim(-0.7, len(runs) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("criterion − best (at most 1e-12 drawn at 1e-12)")


@styled
def runs_figure(runs: Sequence[OptimizerRun], tolerance: float) -> Figure:
    """The agreement runs, one row each."""
    if not runs:
        raise ValueError("the diagnosis ran no optimiser check")
    fig = new_figure(6.0, 0.28 * len(runs) + 1.0)
    draw_runs(fig.add_subplot(), runs, tolerance)
    return fig
