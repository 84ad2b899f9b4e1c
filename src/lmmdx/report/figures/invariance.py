"""The invariance self-test: how far the criterion and the estimates moved in each rewriting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .canvas import ACCENT, BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...invariance import InvarianceCheck

__all__ = ["CAPTION", "FLOOR", "invariance_figure"]

CAPTION = ("Relative change of the criterion (blue) and largest relative change of an estimate (red) when the same "
           "model is written differently (rows permuted, terms reordered, covariates rescaled, ...): everything left "
           "of the dashed tolerance means the answer does not depend on how the data are written.")
#: Differences below this are drawn at it (a log scale has no 0).
FLOOR = 1e-16


@styled
def invariance_figure(check: InvarianceCheck) -> Figure:
    """One row per variant compared with the original fit (skipped and failed variants are left out)."""
    compared = [o for o in check.outcomes if o.compared]
    if not compared:
        raise ValueError("no variant could be compared")
    fig = new_figure(6.5, 0.3 * len(compared) + 1.1)
    ax = fig.add_subplot()
    rows = np.arange(len(compared))
    crit = np.maximum([abs(o.objective_difference) for o in compared], FLOOR)
    est = np.maximum([abs(o.estimate_difference) for o in compared], FLOOR)
    ax.plot(crit, rows - 0.12, "o", color=BASE, markersize=5, label="criterion")
    ax.plot(est, rows + 0.12, "s", color=ACCENT, markersize=5, label="estimates (largest)")
    ax.axvline(check.tolerance, color=MUTED, linestyle="--", linewidth=0.9, label=f"tolerance {check.tolerance:g}")
    ax.set_xscale("log")
    ax.set_xlim(FLOOR / 3, max(float(np.max(crit)), float(np.max(est)), check.tolerance) * 30)
    ax.set_yticks(rows, [o.name for o in compared])
    ax.set_ylim(len(compared) - 0.5, -0.5)
    ax.set_xlabel(f"relative difference from the original fit (below {FLOOR:g} drawn at {FLOOR:g})")
    ax.legend(loc="lower right")
    return fig
