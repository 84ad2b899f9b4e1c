"""Central finite differences of a scalar function: gradient and Hessian with feasible steps.

The criteria differentiated here are cheap (microseconds to milliseconds per
evaluation) and smooth inside their domain, but undefined outside it (``inf``).
Steps are shrunk until every point of the stencil is inside the domain.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["Memo", "feasible_steps", "gradient", "hessian"]

Function = Callable[[np.ndarray], float]

#: Halvings tried before a coordinate's step is declared infeasible.
_MAX_HALVINGS = 40


class Memo:
    """Caches a function's values by argument (the stencils revisit points)."""

    def __init__(self, fun: Function) -> None:
        self.fun = fun
        self.cache: dict[bytes, float] = {}

    def __call__(self, x: np.ndarray) -> float:
        key = np.asarray(x, dtype=np.float64).tobytes()
        if key not in self.cache:
            self.cache[key] = float(self.fun(x))
        return self.cache[key]


def feasible_steps(fun: Function, x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Shrink each step until ``x ± steps[i] e_i`` and all pairwise corners are finite.

    Parameters
    ----------
    fun : callable
    x : ndarray, shape (m,)
    steps : ndarray, shape (m,)
        Positive initial steps.

    Returns
    -------
    ndarray, shape (m,)
        Steps (0 where no feasible step was found).
    """
    h = np.array(steps, dtype=np.float64)
    m = x.size
    for i in range(m):
        for _ in range(_MAX_HALVINGS):
            e = np.zeros(m)
            e[i] = h[i]
            if np.isfinite(fun(x + e)) and np.isfinite(fun(x - e)):
                break
            h[i] *= 0.5
        else:
            h[i] = 0.0
    for i in range(m):
        for j in range(i + 1, m):
            for _ in range(_MAX_HALVINGS):
                if h[i] == 0.0 or h[j] == 0.0:
                    break
                ok = True
                for si in (1.0, -1.0):
                    for sj in (1.0, -1.0):
                        e = np.zeros(m)
                        e[i], e[j] = si * h[i], sj * h[j]
                        ok = ok and bool(np.isfinite(fun(x + e)))
                if ok:
                    break
                h[i] *= 0.5
                h[j] *= 0.5
    return h


def gradient(fun: Function, x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central-difference gradient, shape (m,) (nan where a step is 0)."""
    m = x.size
    g = np.full(m, np.nan)
    for i in range(m):
        if steps[i] <= 0:
            continue
        e = np.zeros(m)
        e[i] = steps[i]
        g[i] = (fun(x + e) - fun(x - e)) / (2.0 * steps[i])
    return g


def hessian(fun: Function, x: np.ndarray, steps: np.ndarray, f0: float | None = None) -> np.ndarray:
    """Central-difference Hessian, shape (m, m), symmetric (nan where a step is 0).

    Uses ``2m + 4·m(m−1)/2 + 1`` evaluations.
    """
    m = x.size
    f0 = fun(x) if f0 is None else f0
    h = np.full((m, m), np.nan)
    plus, minus = np.full(m, np.nan), np.full(m, np.nan)
    for i in range(m):
        if steps[i] <= 0:
            continue
        e = np.zeros(m)
        e[i] = steps[i]
        plus[i], minus[i] = fun(x + e), fun(x - e)
        h[i, i] = (plus[i] - 2.0 * f0 + minus[i]) / steps[i] ** 2
    for i in range(m):
        for j in range(i + 1, m):
            if steps[i] <= 0 or steps[j] <= 0:
                continue
            total = 0.0
            for si in (1.0, -1.0):
                for sj in (1.0, -1.0):
                    e = np.zeros(m)
                    e[i], e[j] = si * steps[i], sj * steps[j]
                    total += si * sj * fun(x + e)
            h[i, j] = h[j, i] = total / (4.0 * steps[i] * steps[j])
    return h
