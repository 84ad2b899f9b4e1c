"""ANOVA tables of the fixed-effect terms: type III (lmerTest's default) and type I.

Each term is tested with an F test of its contrast matrix (:mod:`.ddf`), as
``lmerTest::anova(model, type = 3 | 1)`` does:

* type I contrasts are the rows of the (unit upper-triangular) Doolittle factor of
  XᵀX belonging to the term — sequential sums of squares;
* type III contrasts start from the complete (over-parameterised, all levels)
  coding of every term; the columns of each term are made orthogonal to the terms
  that contain it (lmerTest's ``extract_contrasts_type3``). With at most one term,
  lmerTest (and this module) uses the type I contrasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..design.terms import FixedTerms, fixed_terms
from ..errors import LmmdxError
from .ddf import Tester

if TYPE_CHECKING:
    import pandas as pd

    from ..result import Fit

__all__ = ["AnovaRow", "AnovaTable", "anova", "type1_contrasts", "type3_contrasts"]

#: lmerTest's ``doolittle(eps = 1e-6)``: entries below this are set to zero.
_DOOLITTLE_EPS = 1e-6
#: lmerTest keeps contrast rows whose absolute sum exceeds this.
_ZERO_ROW = 1e-8
#: R's ``zapsmall(digits = getOption("digits"))``.
_ZAP_DIGITS = 7


@dataclass(frozen=True, slots=True)
class AnovaRow:
    """One term of an ANOVA table (lmerTest's columns)."""

    term: str
    sum_sq: float
    mean_sq: float
    num_df: int
    den_df: float
    f_value: float
    p_value: float


@dataclass(frozen=True, slots=True)
class AnovaTable:
    """An ANOVA table of F tests of the fixed-effect terms.

    Attributes
    ----------
    type : int
        3 or 1.
    ddf : str
        ``"satterthwaite"`` or ``"kenward-roger"``.
    rows : tuple of AnovaRow
    """

    type: int
    ddf: str
    rows: tuple[AnovaRow, ...]

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame indexed by term, with lmerTest's column names."""
        import pandas as pd

        return pd.DataFrame(
            [[r.sum_sq, r.mean_sq, r.num_df, r.den_df, r.f_value, r.p_value] for r in self.rows],
            index=[r.term for r in self.rows],
            columns=["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"],
        )

    def __str__(self) -> str:
        from ..report.inference import anova_text

        return anova_text(self)


def _zapsmall(x: np.ndarray, digits: int = _ZAP_DIGITS) -> np.ndarray:
    mx = float(np.max(np.abs(x))) if x.size else 0.0
    places = max(0, digits - int(np.ceil(np.log10(mx)))) if mx > 0 else digits
    return np.round(x, places)


def _doolittle_upper(a: np.ndarray) -> np.ndarray:
    """``t(L)`` of lmerTest's Doolittle factorisation ``A = L U`` (unit lower L)."""
    n = a.shape[0]
    lower, upper = np.eye(n), np.zeros((n, n))
    for i in range(n):
        upper[i, :] = a[i, :] - lower[i, :i] @ upper[:i, :]
        for j in range(i + 1, n):
            value = a[j, i] - lower[j, :i] @ upper[:i, i]
            lower[j, i] = 0.0 if abs(upper[i, i]) < _DOOLITTLE_EPS else value / upper[i, i]
    lower[np.abs(lower) < _DOOLITTLE_EPS] = 0.0
    return lower.T


def _nonzero_rows(l: np.ndarray) -> np.ndarray:
    return l[np.abs(l).sum(axis=1) > _ZERO_ROW]


def type1_contrasts(x: np.ndarray, terms: FixedTerms) -> dict[str, np.ndarray]:
    """Type I (sequential) contrast matrix of each term, shape (columns of the term, p)."""
    p = x.shape[1]
    l = np.eye(1) if p == 1 else _doolittle_upper(x.T @ x)
    return {t.label: l[list(t.columns)] for t in terms.terms if t.columns}


def type3_contrasts(x: np.ndarray, names: tuple[str, ...], terms: FixedTerms) -> dict[str, np.ndarray]:
    """Type III contrast matrix of each term (lmerTest's ``extract_contrasts_type3``)."""
    if x.shape[1] <= 1 or len(terms.terms) <= 1:
        return type1_contrasts(x, terms)
    l = _zapsmall((np.linalg.pinv(x) @ terms.complete).T)
    for term in sorted(terms.terms, key=terms.order, reverse=True):
        contains = terms.containing(term)
        cols = list(term.columns)
        others = [c for other in contains for c in other.columns]
        if not contains or not cols or not others:
            continue
        coef = np.linalg.lstsq(l[:, others], l[:, cols], rcond=None)[0]
        l[:, cols] = _zapsmall(l[:, cols] - l[:, others] @ coef)
    position = {name: i for i, name in enumerate(terms.complete_names)}
    missing = [name for name in names if name not in position]
    if missing:
        raise LmmdxError(
            f"type III contrasts need treatment coding; the column(s) {', '.join(missing)} do not match it "
            "(use type=1)"
        )
    l = l[[position[name] for name in names]]
    return {t.label: _nonzero_rows(l[:, list(t.columns)].T) for t in terms.terms if t.columns}


def anova(fit: Fit, type: int = 3, ddf: str = "satterthwaite", tester: Tester | None = None) -> AnovaTable:
    """F tests of every fixed-effect term.

    Parameters
    ----------
    fit : Fit
    type : int
        3 (marginal, as ``lmerTest::anova``'s default) or 1 (sequential).
    ddf : str
        ``"satterthwaite"`` (default) or ``"kenward-roger"``.
    tester : Tester, optional
        Reuse one with the fit's Hessian already computed.
    """
    if type not in (1, 3):
        raise LmmdxError(f"anova type must be 1 or 3, got {type!r}")
    tester = tester or Tester(fit, ddf)
    design = fit.model.design
    terms = fixed_terms(design)
    if type == 3:
        contrasts = type3_contrasts(design.X, design.fixed.names, terms)
    else:
        contrasts = type1_contrasts(design.X, terms)
    rows = []
    for label, l in contrasts.items():
        if l.shape[0] == 0:
            continue
        test = tester.contrast(l)
        mean_sq = test.f_value * fit.sigma**2
        rows.append(AnovaRow(label, mean_sq * test.num_df, mean_sq, test.num_df, test.den_df, test.f_value,
                             test.p_value))
    return AnovaTable(type, tester.method, tuple(rows))
