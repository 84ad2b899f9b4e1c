"""The drawing surface of every figure: matplotlib's object API rendered to inline SVG.

matplotlib is imported here, on first use, and only here: ``lmmdx fit`` never loads it,
and without it (it is the optional extra ``lmmdx[report]``) a figure raises one line
saying how to install it. Figures are :class:`matplotlib.figure.Figure` objects made
without pyplot (no global figure registry; in a notebook they display as themselves).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

from ...errors import LmmdxError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACCENT",
    "BASE",
    "MAX_MARKS",
    "MUTED",
    "POOLED",
    "new_figure",
    "require_matplotlib",
    "sample_indices",
    "spread_indices",
    "styled",
    "to_svg",
]

#: Most marks (points, intervals) one figure draws; larger data are binned, banded or sampled.
MAX_MARKS = 3000
#: Okabe–Ito colours (distinguishable with every common colour-vision deficiency).
BASE = "#0072B2"
ACCENT = "#D55E00"
POOLED = "#222222"
MUTED = "#8c8c8c"

_STYLE: dict[Any, Any] = {
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e8e8e8",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.dpi": 100,
}

P = ParamSpec("P")
R = TypeVar("R")


def require_matplotlib() -> None:
    """Raise one line when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise LmmdxError("figures and HTML reports need matplotlib, which is not installed: "
                         "pip install 'lmmdx[report]'") from None


@contextmanager
def _style() -> Iterator[None]:
    require_matplotlib()
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        yield


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a figure function under the house style (rcParams are read when artists are made)."""

    @wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _style():
            return draw(*args, **kwargs)

    return wrapper


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` × ``height`` inches with constrained layout.

    A :class:`matplotlib.figure.Figure` that also shows itself in a notebook (as SVG) when
    pyplot was never imported (no inline backend has registered a display for it then).
    """
    require_matplotlib()
    from .notebook import NotebookFigure

    return NotebookFigure(figsize=(width, height), layout="constrained")


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


def to_svg(figure: Figure, salt: str = "lmmdx") -> str:
    """The figure as an ``<svg>`` element to inline in HTML (text kept as text, no timestamp).

    ``salt`` makes the element ids unique when several figures share one page.
    """
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _METADATA.sub("", _PROLOGUE.sub("", buffer.getvalue(), count=1), count=1).strip()


def spread_indices(n: int, limit: int) -> np.ndarray:
    """At most ``limit`` indices spread evenly over ``range(n)`` (all of them when n ≤ limit)."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(int))


def sample_indices(n: int, limit: int) -> np.ndarray:
    """At most ``limit`` of ``range(n)``, drawn at random with a fixed seed, in increasing order."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))
