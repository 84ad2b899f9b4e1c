"""What ``Fit``, ``Diagnosis`` and ``RemedyReport`` show in a notebook (``_repr_html_``).

Tables only, except the remedies' forest plot when matplotlib is installed: a cell's display
must be quick and must never fail for want of the plotting library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import LmmdxError
from .diagnosis import diagnosis_html
from .fit import fit_html
from .page import figure, fragment
from .remedy import remedy_html

if TYPE_CHECKING:
    from ...diagnose import Diagnosis
    from ...remedy.result import RemedyReport
    from ...result import Fit

__all__ = ["diagnosis_cell", "fit_cell", "remedy_cell"]


def fit_cell(fit: Fit) -> str:
    """The fit's tables."""
    return fragment(fit_html(fit.to_dict(), heading="h4"))


def diagnosis_cell(diagnosis: Diagnosis) -> str:
    """The verdict, findings and tables of a diagnosis."""
    return fragment(diagnosis_html(diagnosis.to_dict(), heading="h4"))


def remedy_cell(report: RemedyReport) -> str:
    """The remedies' tables, with the forest plot when matplotlib is installed."""
    from ..figures.canvas import to_svg
    from ..figures.forest import CAPTION

    try:
        forest = figure("forest", "Effects of interest across the candidates", CAPTION,
                        to_svg(report.plot.forest(), salt="lmmdx-forest-cell"))
    except (LmmdxError, ValueError):
        forest = ""
    return fragment(remedy_html(report, forest))
