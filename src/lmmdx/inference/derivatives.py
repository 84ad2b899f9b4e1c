"""Numerical derivatives with Richardson extrapolation, as R's numDeriv computes them.

lmerTest takes the Hessian of the deviance over the variance parameters with
``numDeriv::hessian`` and the Jacobian of Var(β̂) with ``numDeriv::jacobian``; the
same schemes (central differences at ``r`` step sizes, each ``v`` times smaller,
then Richardson extrapolation) give the same numbers here.

Reference: Gilbert & Varadhan, numDeriv (R package), ``genD`` and ``jacobian``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["HESSIAN_STEP", "JACOBIAN_STEP", "hessian", "jacobian"]

#: numDeriv's ``genD`` (used by ``hessian``): first step is 10 % of |x|.
HESSIAN_STEP = 0.1
#: numDeriv's ``grad``/``jacobian``: first step is 0.01 % of |x|.
JACOBIAN_STEP = 1e-4
#: Absolute step added where |x| < ZERO_TOL (numDeriv's ``eps``).
_EPS = 1e-4
#: numDeriv's ``zero.tol``: sqrt(machine epsilon / 7e-7).
_ZERO_TOL = float(np.sqrt(np.finfo(np.float64).eps / 7e-7))
#: Number of step sizes and their ratio (numDeriv's ``r`` and ``v``).
_R = 4
_V = 2.0


def _first_steps(x: np.ndarray, d: float) -> np.ndarray:
    return np.abs(d * x) + _EPS * (np.abs(x) < _ZERO_TOL)


def _extrapolate(values: list[np.ndarray]) -> np.ndarray:
    """Richardson extrapolation of estimates at steps h, h/2, h/4, ... (error O(h²)).

    A criterion that is infinite at a trial step (a badly scaled column) gives inf − inf:
    the result is NaN, which the callers report; numpy's warning about it is silenced.
    """
    a = list(values)
    with np.errstate(invalid="ignore", over="ignore"):
        for m in range(1, len(a)):
            factor = 4.0**m
            a = [(a[k + 1] * factor - a[k]) / (factor - 1.0) for k in range(len(a) - 1)]
    return a[0]


def hessian(fun: Callable[[np.ndarray], float], x: np.ndarray, d: float = HESSIAN_STEP) -> np.ndarray:
    """Hessian of a scalar function by numDeriv's ``genD`` scheme.

    Parameters
    ----------
    fun : callable, (k,) -> float
    x : ndarray, shape (k,)
    d : float
        First step as a fraction of |x|.

    Returns
    -------
    ndarray, shape (k, k)
    """
    x = np.asarray(x, dtype=np.float64)
    k = x.size
    f0 = float(fun(x))
    h0 = _first_steps(x, d)
    out = np.zeros((k, k))
    for i in range(k):
        h, approx = h0.copy(), []
        for _ in range(_R):
            step = np.zeros(k)
            step[i] = h[i]
            approx.append(np.asarray((fun(x + step) - 2.0 * f0 + fun(x - step)) / h[i] ** 2))
            h /= _V
        out[i, i] = float(_extrapolate(approx))
    for i in range(k):
        for j in range(i):
            h, approx = h0.copy(), []
            for _ in range(_R):
                step = np.zeros(k)
                step[i], step[j] = h[i], h[j]
                value = fun(x + step) - 2.0 * f0 + fun(x - step)
                value -= out[i, i] * h[i] ** 2 + out[j, j] * h[j] ** 2
                approx.append(np.asarray(value / (2.0 * h[i] * h[j])))
                h /= _V
            out[i, j] = out[j, i] = float(_extrapolate(approx))
    return out


def jacobian(
    fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, d: float = JACOBIAN_STEP
) -> np.ndarray:
    """Jacobian of an array-valued function by numDeriv's Richardson scheme.

    Parameters
    ----------
    fun : callable, (k,) -> ndarray of any shape S
    x : ndarray, shape (k,)

    Returns
    -------
    ndarray, shape S + (k,)
        ``out[..., i]`` is the derivative with respect to ``x[i]``.
    """
    x = np.asarray(x, dtype=np.float64)
    k = x.size
    h0 = _first_steps(x, d)
    columns = []
    for i in range(k):
        h, approx = h0.copy(), []
        for _ in range(_R):
            step = np.zeros(k)
            step[i] = h[i]
            approx.append((np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2.0 * h[i]))
            h /= _V
        columns.append(_extrapolate(approx))
    return np.stack(columns, axis=-1)
