"""Responses of generalised linear mixed models, read as glmer reads them.

Binomial: ``cbind(successes, failures)`` (y = proportion, prior weight = trials), a 0/1 numeric or
logical column, or a two-level factor whose first level (R's order: sorted text, or a categorical's
own order) is the failure (VerbAgg's ``r2``: N/Y). Poisson: non-negative whole counts. Offsets are
the design's (``offset()`` in the fixed part).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..formula.expr import Call, Expr
from ..formula.terms import ModelFormula
from .evaluate import Categorical, Numeric, Variable

__all__ = ["GlmResponse", "glm_response"]


@dataclass(frozen=True, slots=True)
class GlmResponse:
    """The response of a GLMM.

    Attributes
    ----------
    y : ndarray, shape (n,)
        Proportions of successes (binomial) or counts (Poisson).
    weights : ndarray, shape (n,)
        Prior weights: the trials of each row for ``cbind`` responses, else 1.
    success : str or None
        What counts as a success for a factor response (its second level), else None.
    """

    y: np.ndarray
    weights: np.ndarray
    success: str | None = None


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(values)) and np.all(values >= 0) and np.all(values == np.rint(values)))


def glm_response(formula: ModelFormula, variables: Mapping[Expr, Variable], family: str) -> GlmResponse:
    """Read the response of a GLMM of ``family`` (``"binomial"`` or ``"poisson"``).

    Raises
    ------
    DataError
        Values the family cannot take (negative or non-integer counts, a factor without two levels,
        a 0/1 response with other values).
    """
    expr = formula.response
    value = variables[expr]
    label = formula.response_label
    if isinstance(expr, Call) and expr.function == "cbind":
        if family != "binomial":
            raise DataError(f"cbind() responses are binomial (successes, failures); the family is {family}")
        assert isinstance(value, Numeric)
        succ, fail = value.values[:, 0], value.values[:, 1]
        for values, what in ((succ, value.colnames[0] if value.colnames else "successes"),
                             (fail, value.colnames[1] if value.colnames else "failures")):
            if not _whole(values):
                raise DataError(f"cbind(): {what!r} must hold non-negative whole numbers")
        trials = succ + fail
        if not np.any(trials > 0):
            raise DataError("cbind(): every row has zero trials")
        y = np.where(trials > 0, succ / np.where(trials > 0, trials, 1.0), 0.0)
        return GlmResponse(y, trials)
    n = len(value.codes) if isinstance(value, Categorical) else value.values.shape[0]
    if family == "binomial":
        if isinstance(value, Categorical):
            present = sorted(set(value.codes[value.codes >= 0].tolist()))
            if len(present) != 2:
                levels = [value.levels[i] for i in present][:5]
                raise DataError(f"the binomial response {label!r} has {len(present)} distinct values "
                                f"({', '.join(levels)}): a factor response needs exactly two levels "
                                "(the first is the failure)")
            success = value.levels[present[1]]
            return GlmResponse((value.codes == present[1]).astype(np.float64), np.ones(n), success)
        if value.k != 1:
            raise DataError(f"the binomial response {label!r} is not one column")
        y = value.values[:, 0]
        if not np.all((y == 0) | (y == 1)):
            bad = y[(y != 0) & (y != 1)][0]
            raise DataError(
                f"the binomial response {label!r} has the value {bad:g}: use 0/1 values, a two-level factor or "
                "cbind(successes, failures) for counts out of several trials"
            )
        return GlmResponse(np.ascontiguousarray(y, dtype=np.float64), np.ones(n))
    if isinstance(value, Categorical) or value.k != 1:
        raise DataError(f"the Poisson response {label!r} must be counts (one numeric column)")
    y = value.values[:, 0]
    if not _whole(y):
        bad = y[~(np.isfinite(y) & (y >= 0) & (y == np.rint(y)))][0]
        raise DataError(f"the Poisson response {label!r} must hold non-negative whole numbers; it has {bad:g}")
    return GlmResponse(np.ascontiguousarray(y, dtype=np.float64), np.ones(n))
