"""Bounded derivative-free minimisation behind one signature; knows nothing of models.

Backends are registered by name in :data:`OPTIMIZERS`. Each takes the objective,
a start, lower bounds and :class:`Tolerances`, and returns an :class:`OptTrace`,
the optimiser's record (start, end, every evaluation, status) stored with a fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nlopt
import numpy as np

if TYPE_CHECKING:
    from .polish import Certificate

__all__ = ["OPTIMIZERS", "OptTrace", "Tolerances", "chain", "minimize", "minimize_with_gradient"]

Objective = Callable[[np.ndarray], float]
ObjectiveWithGradient = Callable[[np.ndarray], tuple[float, np.ndarray]]

#: Stand-in for a criterion that cannot be evaluated (optimisers dislike inf and nan).
_BAD_VALUE = 1e300


@dataclass(frozen=True, slots=True)
class Tolerances:
    """Stopping rules (lme4's nloptwrap uses ftol_abs = xtol_abs = 1e-8, maxeval 1e5)."""

    ftol_abs: float = 1e-10
    xtol_abs: float = 1e-10
    maxeval: int = 100_000
    initial_step: float = 0.2


@dataclass(frozen=True, slots=True)
class OptTrace:
    """The record of one minimisation.

    Attributes
    ----------
    optimizer : str
        The optimiser asked for (a name in :data:`OPTIMIZERS`; refits use it).
    x0, x : ndarray
        Start and end points.
    fmin : float
        Objective at ``x``.
    nevals : int
    status : str
        The backend's own return code.
    converged : bool
        The backend stopped on a tolerance, not on an error or the evaluation limit; in a
        fit's record, the optimum's :class:`~lmmdx.engine.polish.Certificate` holds.
    evaluations : ndarray, shape (nevals, len(x) + 1)
        Every point evaluated and its value (last column).
    method : str or None
        What actually ran when it differs from ``optimizer`` (e.g. ``"lbfgsb+bobyqa+newton"``).
    certificate : Certificate or None
        A fit's certificate of its optimum (what the Newton polish, snap and boundary
        check did, and whether the optimum is certified); None for a bare minimisation.
    """

    optimizer: str
    x0: np.ndarray
    x: np.ndarray
    fmin: float
    nevals: int
    status: str
    converged: bool
    evaluations: np.ndarray
    method: str | None = None
    certificate: Certificate | None = None

    @property
    def algorithm(self) -> str:
        """What ran: :attr:`method`, or :attr:`optimizer` when they are the same."""
        return self.method or self.optimizer


class _Recorder:
    """Wraps the objective to record each evaluation and replace non-finite values."""

    def __init__(self, fun: Objective) -> None:
        self.fun = fun
        self.points: list[np.ndarray] = []
        self.values: list[float] = []

    def __call__(self, x: np.ndarray, grad: np.ndarray | None = None) -> float:
        value = float(self.fun(x))
        if not np.isfinite(value):
            value = _BAD_VALUE if value != -np.inf else -_BAD_VALUE
        self.points.append(np.array(x, dtype=np.float64))
        self.values.append(value)
        return value

    def trace(self, name: str, x0: np.ndarray, status: str, converged: bool) -> OptTrace:
        values = np.asarray(self.values)
        best = int(np.argmin(values)) if values.size else 0
        x = self.points[best] if values.size else np.array(x0, dtype=np.float64)
        record = (
            np.column_stack([np.asarray(self.points), values])
            if values.size
            else np.zeros((0, x0.size + 1))
        )
        return OptTrace(name, np.array(x0), x, float(values[best]) if values.size else np.nan,
                        int(values.size), status, converged, record)


_NLOPT_OK = {nlopt.SUCCESS, nlopt.FTOL_REACHED, nlopt.XTOL_REACHED, nlopt.STOPVAL_REACHED}
_NLOPT_NAMES = {v: k for k, v in vars(nlopt).items() if k.isupper() and isinstance(v, int) and v in (
    nlopt.SUCCESS, nlopt.STOPVAL_REACHED, nlopt.FTOL_REACHED, nlopt.XTOL_REACHED, nlopt.MAXEVAL_REACHED,
    nlopt.MAXTIME_REACHED, nlopt.FAILURE, nlopt.INVALID_ARGS, nlopt.OUT_OF_MEMORY, nlopt.ROUNDOFF_LIMITED,
    nlopt.FORCED_STOP)}


def _nlopt_backend(algorithm: int, name: str) -> Callable[..., OptTrace]:
    def run(fun: Objective, x0: np.ndarray, lower: np.ndarray, tol: Tolerances) -> OptTrace:
        rec = _Recorder(fun)
        x0 = np.maximum(np.asarray(x0, dtype=np.float64), lower)
        opt = nlopt.opt(algorithm, x0.size)
        opt.set_min_objective(rec)
        opt.set_lower_bounds(lower)
        opt.set_ftol_abs(tol.ftol_abs)
        opt.set_xtol_abs(tol.xtol_abs)
        opt.set_maxeval(tol.maxeval)
        opt.set_initial_step(np.where(x0 != 0, tol.initial_step * np.maximum(np.abs(x0), 1e-2),
                                      tol.initial_step))
        try:
            opt.optimize(x0)
            code = opt.last_optimize_result()
        except nlopt.RoundoffLimited:
            code = nlopt.ROUNDOFF_LIMITED
        except (RuntimeError, ValueError):
            code = nlopt.FAILURE
        status = _NLOPT_NAMES.get(code, str(code))
        return rec.trace(name, x0, status, code in _NLOPT_OK or code == nlopt.ROUNDOFF_LIMITED)

    return run


#: Registered backends: name → function(objective, x0, lower, tolerances) → OptTrace.
OPTIMIZERS: dict[str, Callable[..., OptTrace]] = {
    "bobyqa": _nlopt_backend(nlopt.LN_BOBYQA, "bobyqa"),
    "nelder_mead": _nlopt_backend(nlopt.LN_NELDERMEAD, "nelder_mead"),
    "sbplx": _nlopt_backend(nlopt.LN_SBPLX, "sbplx"),
    "cobyla": _nlopt_backend(nlopt.LN_COBYLA, "cobyla"),
}


def minimize(
    fun: Objective,
    x0: np.ndarray,
    lower: np.ndarray,
    optimizer: str = "bobyqa",
    tolerances: Tolerances | None = None,
) -> OptTrace:
    """Minimise ``fun`` from ``x0`` subject to ``x >= lower`` with a registered backend."""
    return OPTIMIZERS[optimizer](fun, x0, lower, tolerances or Tolerances())


def minimize_with_gradient(
    fun: ObjectiveWithGradient, x0: np.ndarray, lower: np.ndarray, tolerances: Tolerances | None = None
) -> OptTrace:
    """Minimise with L-BFGS-B (scipy) from the value and gradient, subject to ``x >= lower``.

    Each evaluation of value and gradient is recorded as one evaluation.
    """
    from scipy.optimize import minimize as scipy_minimize

    tol = tolerances or Tolerances()
    points: list[np.ndarray] = []
    values: list[float] = []

    def wrapped(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = fun(x)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            value, grad = _BAD_VALUE, np.zeros_like(x)
        points.append(np.array(x, dtype=np.float64))
        values.append(float(value))
        return float(value), grad

    x0 = np.maximum(np.asarray(x0, dtype=np.float64), lower)
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    result = scipy_minimize(wrapped, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": _LBFGSB_FTOL, "gtol": 1e-8, "maxiter": min(tol.maxeval, 1000)})
    recorder = _Recorder(lambda x: 0.0)
    recorder.points, recorder.values = points, values
    status = str(result.message)
    return recorder.trace("lbfgsb", x0, status, bool(result.success))


#: L-BFGS-B's relative reduction tolerance (its ``factr · eps``).
_LBFGSB_FTOL = 1e-12


def chain(first: OptTrace, second: OptTrace) -> OptTrace:
    """One record for a minimisation continued (or restarted) by a second run; the lower optimum wins."""
    better = second if second.fmin <= first.fmin else first
    ran = first.algorithm if first.algorithm == second.algorithm else f"{first.algorithm}+{second.algorithm}"
    return OptTrace(
        optimizer=first.optimizer,
        x0=first.x0,
        x=better.x,
        fmin=better.fmin,
        nevals=first.nevals + second.nevals,
        status=better.status,
        converged=better.converged,
        evaluations=np.vstack([first.evaluations, second.evaluations]),
        method=None if ran == first.optimizer else ran,
    )
