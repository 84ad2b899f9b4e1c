"""When not to trust Wald inference: the evidence, and what to say about it.

Satterthwaite and Kenward–Roger df, their p-values and every Wald interval lean on
a quadratic approximation of the criterion around an interior optimum. Where a
variance component sits on the boundary (a singular fit) or the information matrix
of the variance parameters is (near) singular, that approximation breaks; profile
intervals and the bootstrap do not need it.

The evidence is gathered in one place, :func:`wald_check`, from ``Fit.singular``,
the internal θ at the boundary and the eigenvalues of the Hessian over ``(θ, σ)``.
When the diagnosis (``lmmdx.diagnose``) is available, pass its boundary parameters
and Hessian verdict as ``boundary=`` / ``near_singular=`` and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..boundary import singular_mask
from .satterthwaite import EIGEN_TOLERANCE

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["NEAR_SINGULAR_RATIO", "WaldCheck", "wald_check"]

#: The information matrix counts as near-singular when its smallest eigenvalue is below
#: this fraction of its largest (lmerTest warns at 1e-8 absolute; relative here, because
#: the Hessian's scale follows the data's units).
NEAR_SINGULAR_RATIO = EIGEN_TOLERANCE

_ADVICE = (
    "use profile or bootstrap intervals (confint(method='profile'|'bootstrap'), --ci profile|bootstrap) "
    "and a bootstrap likelihood-ratio test (compare(..., bootstrap=N))"
)


@dataclass(frozen=True, slots=True)
class WaldCheck:
    """Whether Wald-based p-values and intervals of a fit can be trusted.

    Attributes
    ----------
    broken : bool
    boundary : tuple of str
        θ names of the variance components on the boundary.
    near_singular : bool
        The information matrix of ``(θ, σ)`` is (near) singular.
    """

    broken: bool
    boundary: tuple[str, ...] = ()
    near_singular: bool = False

    @property
    def short(self) -> str:
        """A few words for a table cell."""
        if not self.broken:
            return ""
        return "singular fit: Wald approximation broken" if self.boundary else "near-singular information"

    @property
    def message(self) -> str:
        """One line: what is broken, why, and where to look instead."""
        if not self.broken:
            return ""
        why = []
        if self.boundary:
            why.append(f"the fit is singular ({', '.join(self.boundary)} on the boundary)")
        if self.near_singular:
            why.append("the information matrix of the variance parameters is near-singular")
        return (
            f"Wald-based df, p-values and intervals are not reliable because {' and '.join(why)}; {_ADVICE}"
        )


def _boundary_names(fit: Fit) -> tuple[str, ...]:
    """``group: column`` for each random effect whose θ diagonal element is at the bound."""
    layout = fit.model.deviance.layout
    on_boundary = singular_mask(fit.theta_internal, layout.diagonal_mask())
    names = []
    for block, offset in zip(fit.model.design.blocks, layout.offsets, strict=True):
        rows, cols = layout.tril(block.k)
        for index, (row, col) in enumerate(zip(rows, cols, strict=True)):
            if row == col and on_boundary[offset + index]:
                names.append(f"{block.group}: {block.columns[row]}")
    return tuple(names)


def wald_check(
    fit: Fit,
    eigenvalues: np.ndarray | None = None,
    *,
    boundary: tuple[str, ...] | None = None,
    near_singular: bool | None = None,
) -> WaldCheck:
    """Collect the evidence against Wald inference for ``fit``.

    Parameters
    ----------
    fit : Fit
    eigenvalues : ndarray, optional
        Of the information matrix of the variance parameters (the Hessian over
        ``(θ, σ)``, or Kenward–Roger's expected information); without them only the
        boundary is checked.
    boundary, near_singular : optional
        Override the evidence with a diagnosis's findings.
    """
    if boundary is None:
        boundary = _boundary_names(fit)
        if fit.singular and not boundary:
            boundary = ("a random-effects covariance",)
    if near_singular is None:
        near_singular = False
        if eigenvalues is not None and len(eigenvalues):
            w = np.sort(np.asarray(eigenvalues, dtype=np.float64))
            near_singular = bool(w[0] < NEAR_SINGULAR_RATIO * max(1.0, abs(float(w[-1]))))
    return WaldCheck(bool(boundary) or near_singular, tuple(boundary), near_singular)
