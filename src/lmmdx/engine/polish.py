"""Newton steps on the closed-form gradient to a certified optimum.

A derivative-free optimiser stops when the criterion no longer changes beyond its own
tolerance. That leaves θ uncertain along flat directions, and near the boundary it can
stop where the criterion still falls (a diagonal element of θ at 0.005 whose optimum is
0.03, where the criterion is even in that element and curves *down*), or on a face of
the boundary the optimum is not on. :func:`certify` takes the optimiser's point to the
optimum and says whether it got there:

1. **Newton on the face.** Parameters held on the boundary (diagonal elements of θ at
   exactly 0) stay there; the others take Newton steps on the closed-form gradient
   (:mod:`.gradient`) with the Hessian from forward differences of the gradient. An
   indefinite Hessian is replaced by its absolute value (eigenvalues ``|λ|``, floored), so
   that a direction of negative curvature is followed downhill; each step is projected
   onto ``θ_diag ≥ 0`` and backtracked until the criterion falls. The Hessian is reused
   while the steps shrink quadratically, recomputed when they stop shrinking, and the
   decrement is judged with a Hessian computed at (or within :data:`_FRESH` of) the point.
   A converged face takes one more full step, which squares the remaining distance.
2. **Snap.** Free diagonal elements within ``snap`` of 0 (lme4's singularity tolerance, from
   :mod:`lmmdx.boundary`) are set to exactly 0 and the others polished again; the face is
   kept when its criterion is as low, up to the slack ``max(τ/2, NOISE·|criterion|)``.
3. **KKT on the boundary.** Each held element is probed a short way into the interior: where
   the criterion is even in it (its column of the factor is otherwise zero) the first
   derivative vanishes and the probe tests the second-order condition; elsewhere the element
   sits where two factors of the same covariance meet, its derivative must vanish, and a
   positive one is probed in the mirrored factor. An element along which the criterion
   falls by more than the slack is released there and step 1 continues.

The certificate holds when, at the end, the Newton decrement over the free parameters is at
most τ (:func:`decrement_tolerance`) and neither a direction of negative curvature nor a held
element lowers the criterion by more than the slack. Its numbers are returned as a
:class:`Certificate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .deviance import ProfiledDeviance
from .gradient import value_and_gradient

__all__ = ["DECREMENT_TOLERANCE", "NOISE", "Certificate", "certify", "decrement_tolerance"]

#: The certificate's tolerance on the Newton decrement λ² = gᵀH⁻¹g (criterion units).
#:
#: λ²/2 is the decrease of the criterion a Newton step would still achieve (Boyd &
#: Vandenberghe 2004, §9.5.1). The criterion is −2 log L (or the REML criterion), so λ² does
#: not depend on the units of the data or on how θ is parameterised, and ``2H⁻¹`` is the
#: asymptotic covariance of θ̂: for any combination ``vᵀθ`` of the free parameters
#: ``|vᵀ(θ − θ*)| ≤ λ sqrt(vᵀH⁻¹v) = (λ/√2) SE(vᵀθ̂)``. λ² ≤ 1e-10 thus puts the criterion
#: within 5e-11 of the face's optimum and every estimate within 7e-6 of its own standard
#: error of it: far below any statistical resolution, and four orders of magnitude below
#: the 1e-6 by which two optimisers' criteria are compared.
DECREMENT_TOLERANCE = 1e-10
#: Relative rounding error of one evaluation of the criterion (log-determinants and a log of
#: the residual sum of squares from Cholesky factors): values closer than this share of
#: |criterion| (or τ/2) are equal. Measured on the reference fits: at most 7.5e-14 for
#: perturbations of θ at the level of its last digits; 1e-12 leaves a factor of ten.
NOISE = 1e-12
#: τ grows with |criterion| beyond ``|criterion| · NOISE / 100`` (InstEval's criterion is
#: 2.4e5 on the internal scale), since the closed-form gradient is a sum of terms as large as
#: the criterion and carries their rounding.
_DECREMENT_NOISE = 1e-2 * NOISE
#: Outer rounds (Newton on a face, snap, KKT) at most, and Newton steps per face at most.
_ROUNDS = 8
_NEWTON_STEPS = 40
#: Backtracking halvings of a step at most.
_BACKTRACK = 30
#: Forward-difference step for the Hessian, relative to max(1, |θ|) (internal θ is of order 1).
_HESSIAN_STEP = 1e-5
#: Eigenvalues of the Hessian are floored at this share of the largest one.
_EIGEN_FLOOR = 1e-10
#: A Hessian is reused while each decrement is at most this share of the previous one.
_SHRINK = 0.25
#: Within this multiple of τ a full Newton step is judged by "no rise beyond τ/2" (its predicted
#: gain is then too small for the criterion's rounding to show reliably).
_NEAR = 1e3
#: A Hessian computed this far from the point (``dᵀHd``, criterion units: the point moved by
#: 1e-2 of a standard error, over which the curvature of a locally quadratic criterion changes by
#: about 1%) still describes its curvature; farther, it is recomputed.
_FRESH = 1e-4
#: Distances into the interior at which a held element is probed (internal θ is of order 1).
_PROBES = (1e-3, 1e-2, 1e-1)


def decrement_tolerance(value: float) -> float:
    """τ at a criterion value: :data:`DECREMENT_TOLERANCE`, or more for very large criteria."""
    return max(DECREMENT_TOLERANCE, _DECREMENT_NOISE * abs(value)) if np.isfinite(value) else DECREMENT_TOLERANCE


def _slack(value: float, tau: float) -> float:
    """How much two criterion values may differ and still count as equal."""
    return max(0.5 * tau, NOISE * abs(value)) if np.isfinite(value) else 0.5 * tau


@dataclass(frozen=True, slots=True)
class Certificate:
    """What :func:`certify` did and whether the optimum is certified.

    Attributes
    ----------
    holds : bool
        The Newton decrement is at most ``tolerance``, and neither a direction of negative
        curvature nor a held element lowers the criterion by more than ``tolerance / 2``.
    decrement : float
        λ² = gᵀH⁻¹g over the free parameters at the end (criterion units).
    tolerance : float
        τ (:func:`decrement_tolerance`).
    projected_gradient : float
        max |g| over the elements of θ (internal scale). A held element's derivative must vanish
        as well (see :func:`_release`); for one the criterion is even in, it is exactly 0.
    min_curvature : float
        Smallest eigenvalue of the Hessian over the free internal θ (nan with none free).
    held : tuple of int
        Indices of θ held at 0.
    snapped, released : tuple of int
        Elements set to 0 by the snap, and held elements the KKT check released.
    restarts : tuple of str
        The optimiser's restarts before this optimum was kept (set by the fit: ``"other face"``,
        ``"small start"``, ``"large start"``).
    steps, hessians, evaluations : int
        Newton steps taken, Hessians computed, criterion evaluations (a value with its gradient
        counts as one).
    note : str
        Why the certificate does not hold ("" when it does).
    """

    holds: bool
    decrement: float
    tolerance: float
    projected_gradient: float
    min_curvature: float
    held: tuple[int, ...]
    snapped: tuple[int, ...] = ()
    released: tuple[int, ...] = ()
    restarts: tuple[str, ...] = ()
    steps: int = 0
    hessians: int = 0
    evaluations: int = 0
    note: str = ""


@dataclass(slots=True)
class _State:
    """The point, its value and gradient, and the running counts."""

    theta: np.ndarray
    value: float
    grad: np.ndarray
    evaluations: int = 0
    steps: int = 0
    hessians: int = 0
    snapped: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


class _BudgetExhausted(Exception):
    """The evaluations allowed are used up."""


class _Problem:
    def __init__(self, dev: ProfiledDeviance, reml: bool, budget: int | None) -> None:
        self.dev, self.reml = dev, reml
        self.diagonal = dev.layout.diagonal_mask()
        self.evaluations = 0
        self.budget = budget
        self._even = _even_elements(dev.layout.sizes)

    def _count(self) -> None:
        if self.budget is not None and self.evaluations >= self.budget:
            raise _BudgetExhausted
        self.evaluations += 1

    def value(self, theta: np.ndarray) -> float:
        self._count()
        value = float(self.dev(theta, self.reml))
        return value if np.isfinite(value) else np.inf

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self._count()
        value, grad = value_and_gradient(self.dev, theta, self.reml)
        return (float(value), grad) if np.isfinite(value) else (np.inf, grad)

    def held(self, theta: np.ndarray) -> np.ndarray:
        return self.diagonal & (theta <= 0.0)

    def column(self, e: int) -> np.ndarray:
        """The other elements of diagonal element ``e``'s column of the factor."""
        return self._even[e]

    def even(self, theta: np.ndarray, e: int) -> bool:
        """Whether the criterion is even in element ``e`` at θ (its column has no other non-zero)."""
        return bool(np.all(theta[self._even[e]] == 0.0))

    def hessian(self, state: _State, free: np.ndarray) -> np.ndarray | None:
        """Forward differences of the gradient over the free elements (None when they fail)."""
        state.hessians += 1
        out = np.empty((free.size, free.size))
        for column, e in enumerate(free):
            h = _HESSIAN_STEP * max(1.0, abs(state.theta[e]))
            shifted = state.theta.copy()
            shifted[e] += h
            _, grad = self.value_and_gradient(shifted)
            out[:, column] = (grad[free] - state.grad[free]) / h
        if not np.all(np.isfinite(out)):
            return None
        return 0.5 * (out + out.T)


@lru_cache(maxsize=64)
def _even_elements(sizes: tuple[int, ...]) -> dict[int, np.ndarray]:
    """For each diagonal element of θ, the other elements of its column of the factor.

    Changing the sign of a whole column of ``T`` leaves ``T Tᵀ`` unchanged, so where the
    rest of the column is zero the criterion is even in the diagonal element.
    """
    out: dict[int, np.ndarray] = {}
    at = 0
    for k in sizes:
        cols, rows = np.triu_indices(k)
        index = {(int(r), int(c)): at + n for n, (r, c) in enumerate(zip(rows, cols, strict=True))}
        for c in range(k):
            out[index[(c, c)]] = np.array([index[(r, c)] for r in range(c + 1, k)], dtype=np.int64)
            out[index[(c, c)]].setflags(write=False)  # cached: shared by every certificate
        at += len(index)
    return out


def _newton_direction(eigen: tuple[np.ndarray, np.ndarray], grad: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Step, decrement gᵀ|H|⁻¹g and smallest eigenvalue of H (|H|: eigenvalues made positive), from
    ``eigen = numpy.linalg.eigh(H)`` (computed once per Hessian, which serves several steps)."""
    w, v = eigen
    floor = _EIGEN_FLOOR * max(float(np.max(np.abs(w))), 1e-300)
    absolute = np.maximum(np.abs(w), floor)
    coef = v.T @ grad
    step = -v @ (coef / absolute)
    return step, float(np.sum(coef * coef / absolute)), float(w[0])


def _solve_face(problem: _Problem, state: _State, tau: float) -> tuple[float, float, str]:
    """Newton on the current face until λ² ≤ τ; returns (λ², smallest eigenvalue, failure note).

    λ² and the smallest eigenvalue are judged with a Hessian computed at the point, or at a point
    less than :data:`_FRESH` away from it in the Hessian's own metric.
    """
    hessian: np.ndarray | None = None
    eigen = (np.zeros(0), np.zeros((0, 0)))
    h_point = state.theta
    previous = np.inf
    free = np.flatnonzero(~problem.held(state.theta))
    decrement, min_eig = 0.0, float("nan")
    for _ in range(_NEWTON_STEPS):
        if free.size == 0:
            return 0.0, float("nan"), ""
        if not (np.isfinite(state.value) and np.all(np.isfinite(state.grad[free]))):
            return np.inf, float("nan"), "the gradient cannot be evaluated"
        if hessian is None:
            hessian, h_point, previous = problem.hessian(state, free), state.theta.copy(), np.inf
            if hessian is None:
                return np.inf, float("nan"), "the Hessian cannot be evaluated"
            eigen = np.linalg.eigh(hessian)
        fresh = bool(np.array_equal(h_point, state.theta))
        step, decrement, min_eig = _newton_direction(eigen, state.grad[free])
        if decrement <= tau:
            moved = (state.theta - h_point)[free]
            if not fresh and float(moved @ hessian @ moved) > _FRESH:
                hessian = None  # judge the certificate with the curvature here
                continue
            if min_eig > 0:
                # certified; one more full step (one evaluation) squares the distance to the optimum,
                # so that the estimates do not depend on where the optimiser happened to stop
                if _final_step(problem, state, free, step, tau):
                    decrement = _newton_direction(eigen, state.grad[free])[1]
                return decrement, min_eig, ""
            if not _negative_curvature_step(problem, state, free, eigen, tau):
                return decrement, min_eig, ""  # flat to within the noise along that direction
            hessian = None
            free = np.flatnonzero(~problem.held(state.theta))
            continue
        accepted, full = _line_search(problem, state, free, step, decrement, tau)
        if not accepted:
            if fresh:
                return decrement, min_eig, "no step lowers the criterion"
            hessian = None  # a stale Hessian: recompute and try again
            continue
        state.steps += 1
        if np.any(problem.held(state.theta)[free]):  # a step reached the boundary: a new face
            free = np.flatnonzero(~problem.held(state.theta))
            hessian = None
        elif not full or decrement > _SHRINK * previous:
            hessian = None  # steps stopped shrinking: refresh the Hessian
        else:
            previous = decrement
    return decrement, min_eig, f"no convergence in {_NEWTON_STEPS} Newton steps"


def _final_step(problem: _Problem, state: _State, free: np.ndarray, step: np.ndarray, tau: float) -> bool:
    """Take a converged Newton step if it stays feasible and does not raise the criterion beyond τ/2."""
    candidate = state.theta.copy()
    candidate[free] += step
    if np.any(candidate[problem.diagonal] < 0.0):
        return False
    value, grad = problem.value_and_gradient(candidate)
    if not (np.isfinite(value) and value <= state.value + _slack(state.value, tau)
            and np.all(np.isfinite(grad[free]))):
        return False
    state.theta, state.value, state.grad = candidate, value, grad
    state.steps += 1
    return True


def _line_search(problem: _Problem, state: _State, free: np.ndarray, step: np.ndarray, decrement: float,
                 tau: float) -> tuple[bool, bool]:
    """Backtrack along the projected step; returns (accepted, the full step was taken)."""
    diagonal = problem.diagonal
    alpha = 1.0
    for attempt in range(_BACKTRACK):
        candidate = state.theta.copy()
        candidate[free] += alpha * step
        candidate[diagonal] = np.maximum(candidate[diagonal], 0.0)
        value, grad = problem.value_and_gradient(candidate)
        if attempt == 0 and decrement <= _NEAR * tau:
            # a full step predicted to gain little more than τ: the value may only show rounding
            accept = value <= state.value + _slack(state.value, tau)
        else:  # Armijo's sufficient decrease
            accept = value <= state.value - 1e-4 * alpha * decrement
        if np.isfinite(value) and accept:
            state.theta, state.value, state.grad = candidate, value, grad
            return True, attempt == 0
        alpha *= 0.5
    return False, False


def _negative_curvature_step(problem: _Problem, state: _State, free: np.ndarray,
                             eigen: tuple[np.ndarray, np.ndarray], tau: float) -> bool:
    """Follow the most negative curvature direction (both ways) if the criterion falls by more than τ/2
    (``eigen``: the Hessian's eigendecomposition)."""
    w, v = eigen
    if w[0] >= 0:
        return False
    direction = v[:, 0] / np.max(np.abs(v[:, 0]))
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for sign in (1.0, -1.0):
        for size in _PROBES:
            candidate = state.theta.copy()
            candidate[free] += sign * size * direction
            candidate[problem.diagonal] = np.maximum(candidate[problem.diagonal], 0.0)
            value, grad = problem.value_and_gradient(candidate)
            if np.isfinite(value) and (best is None or value < best[0]):
                best = (value, candidate, grad)
    if best is None or best[0] >= state.value - _slack(state.value, tau):
        return False
    state.value, state.theta, state.grad = best
    return True


def _snap(problem: _Problem, state: _State, snap: float, tau: float,
          released: set[int]) -> tuple[float, float, str] | None:
    """Try free diagonal elements within ``snap`` of 0 at exactly 0 and polish the others; keep the
    face if its criterion is within τ/2. Returns the face's (λ², smallest eigenvalue, note), or None."""
    near = [int(e) for e in np.flatnonzero(problem.diagonal & (state.theta > 0.0) & (state.theta < snap))
            if int(e) not in released]
    if not near:
        return None
    trial = _State(state.theta.copy(), state.value, state.grad)
    trial.theta[near] = 0.0
    trial.value, trial.grad = problem.value_and_gradient(trial.theta)
    result = _solve_face(problem, trial, tau)
    state.steps += trial.steps
    state.hessians += trial.hessians
    if result[2] or not (np.isfinite(trial.value) and trial.value <= state.value + _slack(state.value, tau)):
        return None
    state.theta, state.value, state.grad = trial.theta, trial.value, trial.grad
    state.snapped.extend(near)
    return result


def _release(problem: _Problem, state: _State, tau: float) -> bool:
    """KKT on the boundary: move the held element that lowers the criterion most into the interior.

    An element whose column of the factor has other non-zero entries sits where two factors of
    the same covariance meet: flipping the sign of the whole column maps θ_e ∈ (−h, 0) onto (0, h)
    with the rest of the column negated. Its derivative must therefore vanish; when it is positive
    the probe goes into the interior of the mirrored factor.
    """
    best: tuple[float, int, np.ndarray] | None = None
    for e in np.flatnonzero(problem.held(state.theta)):
        g = float(state.grad[e])
        mirror = not problem.even(state.theta, int(e)) and np.isfinite(g) and g > 0.0
        for size in _PROBES:
            candidate = state.theta.copy()
            if mirror:
                candidate[problem.column(int(e))] *= -1.0
            candidate[e] = size
            value = problem.value(candidate)
            if value < state.value - _slack(state.value, tau) and (best is None or value < best[0]):
                best = (value, int(e), candidate)
    if best is None:
        return False
    value, grad = problem.value_and_gradient(best[2])
    state.theta, state.value, state.grad = best[2], value, grad
    state.released.append(best[1])
    return True


def _projected_gradient(problem: _Problem, state: _State) -> float:
    """max |g| over free and held elements alike (see :func:`_release` for why a held element's
    derivative must vanish too; it is exactly 0 for an element the criterion is even in)."""
    parts = np.abs(state.grad)
    return float(np.max(parts)) if parts.size and np.all(np.isfinite(parts)) else (0.0 if not parts.size else np.nan)


def certify(
    dev: ProfiledDeviance, theta: np.ndarray, reml: bool, snap: float, budget: int | None = None
) -> tuple[np.ndarray, float, Certificate]:
    """Take θ to the optimum on its face of the boundary, snap, check KKT, and certify the result.

    Parameters
    ----------
    dev : ProfiledDeviance
    theta : ndarray
        The optimiser's end point (internal θ).
    reml : bool
    snap : float
        Free diagonal elements below this are tried at exactly 0.
    budget : int, optional
        Evaluations allowed (a value with its gradient counts as one); when they run out the
        best point so far is returned, uncertified.

    Returns
    -------
    theta : ndarray
    value : float
        The criterion there (internal scale).
    certificate : Certificate
    """
    problem = _Problem(dev, reml, budget)
    start = np.array(theta, dtype=np.float64)
    start[problem.diagonal] = np.maximum(start[problem.diagonal], 0.0)
    state = _State(start, np.inf, np.full(start.size, np.nan))
    decrement, min_eig, note = np.inf, float("nan"), ""
    try:
        decrement, min_eig, note = _certify(problem, state, snap)
    except _BudgetExhausted:
        note = f"the evaluation budget ran out ({budget} for the certificate)"
    tau = decrement_tolerance(state.value)
    held = tuple(int(e) for e in np.flatnonzero(problem.held(state.theta)))
    certificate = Certificate(
        holds=not note and decrement <= tau,
        decrement=float(decrement),
        tolerance=float(tau),
        projected_gradient=_projected_gradient(problem, state),
        min_curvature=float(min_eig),
        held=held,
        snapped=tuple(sorted(set(state.snapped))),
        released=tuple(state.released),
        steps=state.steps,
        hessians=state.hessians,
        evaluations=problem.evaluations,
        note=note,
    )
    value = state.value if np.isfinite(state.value) else float(dev(state.theta, reml))
    return state.theta, value, certificate


def _certify(problem: _Problem, state: _State, snap: float) -> tuple[float, float, str]:
    """The rounds of Newton on a face, snap and boundary check; returns the last face's (λ², min eig, note)."""
    state.value, state.grad = problem.value_and_gradient(state.theta)
    released: set[int] = set()
    decrement, min_eig, note = np.inf, float("nan"), "the criterion cannot be evaluated"
    if np.isfinite(state.value):
        for _ in range(_ROUNDS):
            tau = decrement_tolerance(state.value)
            decrement, min_eig, note = _solve_face(problem, state, tau)
            if note:
                break
            snapped = _snap(problem, state, snap, tau, released)
            if snapped is not None:
                decrement, min_eig, note = snapped
            if not _release(problem, state, tau):
                break
            released.add(state.released[-1])
        else:
            note = f"the boundary check did not settle in {_ROUNDS} rounds"
    return decrement, min_eig, note
