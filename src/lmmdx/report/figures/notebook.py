"""The figure class: matplotlib's, shown as SVG by a notebook even when pyplot was never imported.

Imported only when a figure is drawn (it imports matplotlib).
"""

from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["NotebookFigure"]


class NotebookFigure(Figure):
    """A :class:`matplotlib.figure.Figure` with ``_repr_svg_`` (no inline backend is needed to see it)."""

    def _repr_svg_(self) -> str:
        from .canvas import to_svg

        return to_svg(self, salt=f"lmmdx-{id(self)}")
