"""The seam to the diagnosis (issue 4): a one-line verdict on each candidate's fit.

Until :mod:`lmmdx.diagnose` is merged, the verdict is read from the fit's own flags.
"""

from __future__ import annotations

from ..result import Fit

__all__ = ["verdict"]


def verdict(fit: Fit) -> str:
    """A one-line verdict on a fit."""
    if not fit.converged:
        return "did not converge"
    if fit.singular:
        return "singular fit"
    return "ok"
