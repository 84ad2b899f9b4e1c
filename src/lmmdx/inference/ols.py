"""Ordinary least squares as the null model of a likelihood-ratio test (no random effects).

Its criteria are those of a mixed model with θ = 0, on the same scale as lme4's:
the ML deviance ``n (1 + log(2π RSS / n))`` and the REML criterion
``(n − p)(1 + log(2π RSS / (n − p))) + log|XᵀX|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..design import Design
from ..errors import FitError
from ..result import InformationCriteria

__all__ = ["OlsFit", "fit_ols"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, slots=True)
class OlsFit(InformationCriteria):
    """A linear model without random effects, fitted by least squares.

    Attributes
    ----------
    formula : str
    reml : bool
        Whether ``objective`` is the REML criterion (True) or the deviance (False).
    nobs : int
    objective : float
    beta : ndarray, shape (p,)
    vcov_beta : ndarray, shape (p, p)
    sigma : float
        ``√(RSS / (n − p))`` for REML, ``√(RSS / n)`` for ML.
    fixed_names : tuple of str
    design : Design
        With no random-effects blocks.
    """

    formula: str
    reml: bool
    nobs: int
    objective: float
    beta: np.ndarray
    vcov_beta: np.ndarray
    sigma: float
    fixed_names: tuple[str, ...]
    design: Design

    @property
    def npar(self) -> int:
        """β and σ."""
        return int(self.beta.size + 1)

    @property
    def fitted(self) -> np.ndarray:
        """X β̂ (plus the offset, if any), shape (n,)."""
        mean = self.design.X @ self.beta
        return mean if self.design.offset is None else mean + self.design.offset


def fit_ols(design: Design, reml: bool = True) -> OlsFit:
    """Least squares on a design without random effects.

    Raises
    ------
    FitError
        When there are no residual degrees of freedom.
    """
    x, y = design.X, design.y
    n, p = x.shape
    dof = n - p if reml else n
    if n - p <= 0:
        raise FitError(f"{design.formula.text!r} leaves no residual degrees of freedom ({n} rows, {p} coefficients)")
    beta, *_ = np.linalg.lstsq(x, y, rcond=None) if p else (np.zeros(0),)
    rss = float(np.sum((y - x @ beta) ** 2))
    if rss <= 0:
        raise FitError(f"{design.formula.text!r} fits the response exactly; there is no residual variance")
    objective = dof * (1.0 + _LOG_2PI + np.log(rss / dof))
    xtx = x.T @ x
    if reml and p:
        objective += float(np.linalg.slogdet(xtx)[1])
    sigma2 = rss / dof
    vcov = sigma2 * np.linalg.inv(xtx) if p else np.zeros((0, 0))
    return OlsFit(design.formula.text, reml, n, float(objective), beta, vcov, float(np.sqrt(sigma2)),
                  design.fixed.names, design)
