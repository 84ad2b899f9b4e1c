"""t and F tests of fixed effects with Satterthwaite (default) or Kenward–Roger df.

``coefficient_tests(fit)`` is lmerTest's ``summary()`` table; ``contrast_test(fit, L)``
is lmerTest's ``contest(model, L)`` for one- and multi-row contrast matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ..errors import LmmdxError
from .honesty import WaldCheck, wald_check
from .kenward_roger import KenwardRoger, kenward_roger
from .satterthwaite import VarparInformation, satterthwaite_df, satterthwaite_df_1d, varpar_information

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["DDF_METHODS", "CoefTest", "ContrastTest", "Tester", "coefficient_tests", "contrast_test", "ddf_method"]

#: Accepted spellings of the df methods → canonical name.
DDF_METHODS = {
    "satterthwaite": "satterthwaite",
    "kenward-roger": "kenward-roger",
    "kenward_roger": "kenward-roger",
    "kr": "kenward-roger",
    "none": "none",
}


def ddf_method(name: str | None) -> str:
    """The canonical name of a df method: ``"satterthwaite"``, ``"kenward-roger"`` or
    ``"none"`` (None: no df and no p-values, as lme4's summary)."""
    key = "none" if name is None else str(name).strip().lower()
    if key not in DDF_METHODS:
        raise LmmdxError(f"unknown ddf method {name!r}; use 'satterthwaite', 'kenward-roger' or 'none'")
    return DDF_METHODS[key]


@dataclass(frozen=True, slots=True)
class CoefTest:
    """A t test of one coefficient.

    Attributes
    ----------
    term : str
    estimate, std_error : float
        ``std_error`` is the Kenward–Roger adjusted one under that method.
    df : float
    t_value, p_value : float
        Two-sided.
    """

    term: str
    estimate: float
    std_error: float
    df: float
    t_value: float
    p_value: float


@dataclass(frozen=True, slots=True)
class ContrastTest:
    """An F test of ``L β = rhs``.

    Attributes
    ----------
    contrast : ndarray, shape (q, p)
    f_value : float
    num_df : int
        Rank of the contrast.
    den_df : float
    p_value : float
    method : str
        ``"satterthwaite"`` or ``"kenward-roger"``.
    """

    contrast: np.ndarray
    f_value: float
    num_df: int
    den_df: float
    p_value: float
    method: str


class Tester:
    """Tests on one fit with one df method; the expensive part is computed once.

    Parameters
    ----------
    fit : Fit
    ddf : str or None
        ``"satterthwaite"``, ``"kenward-roger"`` or ``"none"``/None (no tests: each
        costs about as many criterion evaluations as the fit itself).
    penalty : callable, optional
        For a penalised fit: the penalty (a function of lme4's θ) added to its criterion,
        so that Satterthwaite's df use the curvature of the penalised criterion.
    """

    def __init__(self, fit: Fit, ddf: str | None = "satterthwaite",
                 penalty: Callable[[np.ndarray], float] | None = None) -> None:
        self.fit = fit
        self.method = ddf_method(ddf)
        self.penalty = penalty
        self._info: VarparInformation | None = None
        self._kr: KenwardRoger | None = None

    @property
    def information(self) -> VarparInformation:
        """The Hessian and Jacobian over the variance parameters (Satterthwaite's inputs)."""
        if self._info is None:
            self._info = varpar_information(self.fit, self.penalty)
        return self._info

    @property
    def kr(self) -> KenwardRoger:
        """The Kenward–Roger adjustment."""
        if self._kr is None:
            self._kr = kenward_roger(self.fit)
        return self._kr

    def check(self) -> WaldCheck:
        """Whether the Wald approximation behind these tests holds (see :mod:`.honesty`)."""
        if self.method == "none" or not self.fit.beta.size:
            return wald_check(self.fit)
        if self.method == "kenward-roger":
            return wald_check(self.fit, self.kr.information_eigenvalues)
        return wald_check(self.fit, self.information.eigenvalues)

    def contrast(self, contrast: np.ndarray, rhs: np.ndarray | float = 0.0) -> ContrastTest:
        """F test of ``L β = rhs``; ``L`` of shape (q, p) or (p,)."""
        if self.method == "none":
            raise LmmdxError("an F test needs a df method: use ddf='satterthwaite' or 'kenward-roger'")
        beta = np.asarray(self.fit.beta)
        l = np.atleast_2d(np.asarray(contrast, dtype=np.float64))
        if l.shape[1] != beta.size:
            raise LmmdxError(f"the contrast matrix needs {beta.size} columns (one per coefficient), got {l.shape[1]}")
        target = np.broadcast_to(np.asarray(rhs, dtype=np.float64), (l.shape[0],))
        if self.method == "kenward-roger":
            f_value, den, num = self.kr.test(l, beta, target)
        else:
            f_value, den, num = satterthwaite_df(self.information, l, beta - _solution(l, target, beta.size))
        p = float(special.fdtrc(num, den, f_value)) if num and np.isfinite(den) and den > 0 else float("nan")
        return ContrastTest(l, f_value, num, den, p, self.method)

    def coefficients(self) -> tuple[CoefTest, ...]:
        """A t test of every coefficient (the fixed-effects table of lmerTest's summary); none for ``"none"``."""
        if self.method == "none":
            return ()
        fit = self.fit
        p = fit.beta.size
        vcov = self.kr.vcov_adjusted if self.method == "kenward-roger" else np.asarray(fit.vcov_beta)
        out = []
        for j, name in enumerate(fit.fixed_names):
            e = np.zeros(p)
            e[j] = 1.0
            se = float(np.sqrt(vcov[j, j]))
            if self.method == "kenward-roger":
                df = self.kr.test(e[None, :], fit.beta)[1]
            else:
                df = satterthwaite_df_1d(self.information, e)
            t = float(fit.beta[j] / se) if se > 0 else float("nan")
            pv = float(2.0 * special.stdtr(df, -abs(t))) if np.isfinite(df) and df > 0 else float("nan")
            out.append(CoefTest(name, float(fit.beta[j]), se, float(df), t, pv))
        return tuple(out)


def _solution(l: np.ndarray, rhs: np.ndarray, p: int) -> np.ndarray:
    """A β₀ with ``L β₀ = rhs`` (zero when rhs is zero), so that ``L(β − β₀) = Lβ − rhs``."""
    if not np.any(rhs):
        return np.zeros(p)
    return np.linalg.lstsq(l, rhs, rcond=None)[0]


def coefficient_tests(fit: Fit, ddf: str = "satterthwaite") -> tuple[CoefTest, ...]:
    """t tests of every coefficient with Satterthwaite or Kenward–Roger df."""
    return Tester(fit, ddf).coefficients()


def contrast_test(
    fit: Fit, contrast: np.ndarray, rhs: np.ndarray | float = 0.0, ddf: str = "satterthwaite"
) -> ContrastTest:
    """F test of ``L β = rhs`` with Satterthwaite or Kenward–Roger df.

    Parameters
    ----------
    contrast : ndarray, shape (q, p) or (p,)
    rhs : float or ndarray, shape (q,)
    """
    return Tester(fit, ddf).contrast(contrast, rhs)
