"""Profile (ζ) plots of the variance parameters with their intervals (lme4's ``xyplot(profile())``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from .canvas import ACCENT, BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

    from ...inference.profile import ProfileTrace

__all__ = ["CAPTION", "profile_figure"]

CAPTION = ("ζ, the signed square root of the rise of the ML deviance, against each variance parameter: a straight "
           "line means Wald intervals are fine; the 95% interval (red) is where |ζ| ≤ 1.96 (dashed), and a limit "
           "at 0 or ±1 means the profile never leaves the interval before the edge of the parameter space.")


def _interval(trace: ProfileTrace) -> str:
    def num(v: float) -> str:
        return "?" if not math.isfinite(v) else f"{v:.3g}"

    return f"[{num(trace.lower)}, {num(trace.upper)}]"


@styled
def profile_figure(traces: Sequence[ProfileTrace], level: float = 0.95) -> Figure:
    """One panel per profiled parameter: ζ against its value, the ``level`` limits marked.

    Parameters
    ----------
    traces : sequence of ProfileTrace
        :meth:`Fit.profile` (usually ``which="theta_"``).
    level : float
        The level the traces were computed for.
    """
    if not traces:
        raise ValueError("no profiles to draw")
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    ncols = min(len(traces), 3)
    nrows = math.ceil(len(traces) / ncols)
    fig = new_figure(3.2 * ncols, 2.5 * nrows)
    for i, trace in enumerate(traces):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.plot(trace.values, trace.zeta, "-o", color=BASE, markersize=2.6, linewidth=1.0)
        for side in (-z, z):
            ax.axhline(side, color=MUTED, linestyle="--", linewidth=0.8)
        ax.axhline(0.0, color=MUTED, linewidth=0.6)
        for end in (trace.lower, trace.upper):
            if math.isfinite(end):
                ax.axvline(end, color=ACCENT, linewidth=1.1)
        ax.axvline(trace.estimate, color=MUTED, linewidth=0.8, linestyle=":")
        ax.set_title(f"{trace.parameter}  {100 * level:g}% {_interval(trace)}", loc="left")
        ax.set_ylabel("ζ")
        finite = np.isfinite(trace.zeta)
        if finite.any():
            top = max(float(np.max(np.abs(trace.zeta[finite]))), z) * 1.1
            ax.set_ylim(-top, top)
    return fig
