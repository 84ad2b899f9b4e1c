"""The parameters that intervals are given for, named as lme4's ``confint`` names them.

Per random-effects term, in θ's order (lower triangle, column by column): the
standard deviation of each random effect (``sd_Days|Subject``) and the correlation
of each pair (``cor_Days.(Intercept)|Subject``); then the residual ``sigma``; then
the fixed effects by name. The summary prints the same names with the intervals.

The variance parameters on this scale ("sdcor") are the user-scale ``(θ, σ)``
mapped through ``Σ = σ² T Tᵀ``; :func:`factors_from_sdcor` goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..boundary import TermBoundary, correlations
from ..engine import ThetaLayout
from ..engine.scaling import psd_factor

if TYPE_CHECKING:
    from ..model import Model
    from ..result import Fit

__all__ = ["Parameter", "edge_side", "factors_from_sdcor", "fit_parameters", "parameters", "sdcor"]


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of the model.

    Attributes
    ----------
    name : str
        lme4's ``confint`` name.
    kind : str
        ``"sd"``, ``"cor"``, ``"sigma"`` or ``"beta"``.
    index : int
        Position in the vector of :func:`fit_parameters` (variance parameters first).
    term : int
        Engine index of its random-effects term (-1 for sigma and β).
    row, col : int
        Its cell in the term's covariance (row == col for an SD); for β, ``col`` is the
        coefficient's index.
    """

    name: str
    kind: str
    index: int
    term: int = -1
    row: int = -1
    col: int = -1

    @property
    def lower_bound(self) -> float:
        """The edge of the parameter space below (0 for SDs, -1 for correlations)."""
        return {"sd": 0.0, "cor": -1.0, "sigma": 0.0}.get(self.kind, -np.inf)

    @property
    def upper_bound(self) -> float:
        """The edge of the parameter space above (1 for correlations)."""
        return 1.0 if self.kind == "cor" else np.inf


def edge_side(par: Parameter, value: float, terms: tuple[TermBoundary, ...]) -> int:
    """Which edge of its range a variance parameter's estimate is on: −1 (an SD of 0, a correlation
    of −1), +1 (a correlation of +1) or 0 (inside, or an undefined correlation), decided by
    :mod:`lmmdx.boundary`.

    Parameters
    ----------
    par : Parameter
    value : float
        Its estimate, from :func:`sdcor`.
    terms : tuple of TermBoundary
        The fit's :attr:`~lmmdx.result.Fit.boundary`.
    """
    if par.kind == "sd":
        return -1 if terms[par.term].sd_at_edge(par.row) else 0
    if par.kind == "cor" and np.isfinite(value) and terms[par.term].correlation_at_edge(par.row, par.col, value):
        return 1 if value > 0 else -1
    return 0


def parameters(model: Model) -> tuple[Parameter, ...]:
    """Every parameter of a model in lme4's ``confint`` order."""
    out: list[Parameter] = []
    for t, block in enumerate(model.design.blocks):
        rows, cols = ThetaLayout.tril(block.k)
        for r, c in zip(rows, cols, strict=True):
            if r == c:
                name, kind = f"sd_{block.columns[r]}|{block.group}", "sd"
            else:
                name, kind = f"cor_{block.columns[r]}.{block.columns[c]}|{block.group}", "cor"
            out.append(Parameter(name, kind, len(out), t, int(r), int(c)))
    out.append(Parameter("sigma", "sigma", len(out)))
    nvar = len(out)
    out.extend(Parameter(name, "beta", nvar + j, col=j) for j, name in enumerate(model.design.fixed.names))
    return tuple(out)


def sdcor(layout: ThetaLayout, theta_user: np.ndarray, sigma: float) -> np.ndarray:
    """Standard deviations and correlations of each term, then σ (θ's order).

    Correlations are :func:`lmmdx.boundary.correlations`' (NaN where an SD is zero).
    """
    values: list[float] = []
    for t in layout.factors(np.asarray(theta_user, dtype=np.float64)):
        sd, corr = correlations(sigma**2 * (t @ t.T))
        rows, cols = ThetaLayout.tril(t.shape[0])
        for r, c in zip(rows, cols, strict=True):
            values.append(float(sd[r]) if r == c else float(corr[r, c]))
    values.append(float(sigma))
    return np.asarray(values)


def factors_from_sdcor(layout: ThetaLayout, values: np.ndarray) -> list[np.ndarray] | None:
    """User-scale relative covariance factors from :func:`sdcor` values (None if not PSD)."""
    sigma = float(values[-1])
    if not sigma > 0:
        return None
    out, at = [], 0
    for k in layout.sizes:
        rows, cols = ThetaLayout.tril(k)
        cells = values[at : at + rows.size]
        at += rows.size
        sd = np.zeros(k)
        corr = np.eye(k)
        for v, r, c in zip(cells, rows, cols, strict=True):
            if r == c:
                sd[r] = v
            elif np.isfinite(v):  # undefined (NaN) beside a zero SD, where any value gives the same Σ
                corr[r, c] = corr[c, r] = v
        factor = psd_factor((sd[:, None] * corr * sd[None, :]) / sigma**2)
        if factor is None:
            return None
        out.append(factor)
    return out


def fit_parameters(fit: Fit) -> np.ndarray:
    """The values of :func:`parameters` at the fit: sdcor, σ, then β."""
    return np.concatenate([sdcor(fit.model.deviance.layout, fit.theta, fit.sigma), fit.beta])
