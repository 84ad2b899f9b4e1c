"""Observed information of the variance–covariance parameters, with the boundary handled.

The Hessian of the (REML or ML) criterion d(φ) = −2 log L is taken with respect to
the user-scale variances, covariances and σ² (as SAS PROC MIXED's COVTEST does);
the asymptotic covariance of φ̂ is ``2 H⁻¹``.

At a singular fit some parameters sit on the boundary of the parameter space and
central differences would leave it. They are held there and the Hessian is taken
on the *face* of the boundary that contains the estimate:

* an effect whose variance is zero keeps it (and its covariances) at zero;
* a term whose remaining covariance is rank deficient keeps its correlation
  matrix fixed (e.g. a correlation of +1) while its variances move.

The parameters held are reported as ``boundary``; they get no standard error,
because a Wald standard error is meaningless there. The information of the
others is eigen-decomposed after scaling to unit diagonal, so that its condition
number does not depend on the units of the data; directions with a (near) zero
eigenvalue are the parameter combinations the data cannot determine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boundary import TermBoundary, correlation
from ..result import Fit
from .differences import Memo, feasible_steps, hessian
from .parameters import VarCovMap
from .tables import InformationSummary, ParameterCombination, VarianceComponent

__all__ = [
    "FD_STEP",
    "ILL_CONDITIONED",
    "NEAR_NULL",
    "Information",
    "TermBoundary",
    "observed_information",
]

#: Relative finite-difference step on each parameter (its own magnitude).
FD_STEP = 1e-3
#: Scaled-information eigenvalues below this fraction of the largest are near-null:
#: a combination of parameters whose variance is 10⁶ times that of the parameters
#: separately, so that it is not determined by the data.
NEAR_NULL = 1e-6
#: Condition numbers of the scaled information above this are ill-conditioned
#: (estimates correlated beyond |r| ≈ 0.9999 along some combination).
ILL_CONDITIONED = 1e4
#: A standard error below this fraction of its estimate is "zero": non-identifiability.
_ZERO_SE = 1e-8


@dataclass(frozen=True, slots=True)
class Information:
    """Everything computed from the observed information.

    Attributes
    ----------
    varcov : VarCovMap
    phi : ndarray, shape (P,)
        Estimates on the user's variance/covariance scale (σ² last).
    terms : tuple of TermBoundary
    free : ndarray of int
        Indices (into φ) of the parameters the Hessian covers.
    boundary : tuple of str
        Names of the parameters held on the boundary.
    hessian : ndarray, shape (F, F)
        Of d over the free parameters (nan where no feasible step existed).
    covariance : ndarray or None, shape (F, F)
        ``2 H⁻¹`` when H is positive definite.
    summary : InformationSummary
    components : tuple of VarianceComponent
    """

    varcov: VarCovMap
    phi: np.ndarray
    terms: tuple[TermBoundary, ...]
    free: np.ndarray
    boundary: tuple[str, ...]
    hessian: np.ndarray
    covariance: np.ndarray | None
    summary: InformationSummary
    components: tuple[VarianceComponent, ...]

    def std_error(self, name: str) -> float | None:
        """Standard error of a parameter on the variance/covariance scale (None when undefined)."""
        for comp in self.components:
            if comp.parameter == name:
                return comp.std_error
        return None


class _Face:
    """φ as a function of the free coordinates, boundary parameters held."""

    def __init__(self, varcov: VarCovMap, phi: np.ndarray, terms: tuple[TermBoundary, ...]) -> None:
        self.varcov, self.phi = varcov, phi
        free, held, tied = [], [], []
        index = {(s.block, s.i, s.j): n for n, s in enumerate(varcov.specs)}
        mats, _ = varcov.covariances(phi)
        for n, spec in enumerate(varcov.specs):
            if spec.kind == "residual":
                free.append(n)
                continue
            term = terms[spec.block]
            zero = set(term.zero_effects)
            if spec.i in zero or spec.j in zero:
                held.append(n)
            elif spec.kind == "covariance" and term.correlation_boundary:
                held.append(n)
                r = correlation(mats[spec.block], spec.i, spec.j)
                tied.append((n, index[(spec.block, spec.i, spec.i)], index[(spec.block, spec.j, spec.j)], r))
            else:
                free.append(n)
        self.free = np.array(free, dtype=np.int64)
        self.held = tuple(held)
        self.tied = tied

    def __call__(self, xi: np.ndarray) -> np.ndarray:
        phi = self.phi.copy()
        phi[self.free] = xi
        for n, a, b, r in self.tied:
            if phi[a] < 0 or phi[b] < 0:
                return np.full_like(phi, np.nan)
            phi[n] = r * np.sqrt(phi[a] * phi[b])
        return phi


def _steps(varcov: VarCovMap, phi: np.ndarray, free: np.ndarray) -> np.ndarray:
    mats, sigma2 = varcov.covariances(phi)
    steps = []
    for n in free:
        spec = varcov.specs[n]
        if spec.kind == "residual":
            scale = sigma2
        else:
            mat = mats[spec.block]
            scale = np.sqrt(abs(mat[spec.i, spec.i] * mat[spec.j, spec.j]))
        steps.append(FD_STEP * max(scale, 1e-12 * sigma2))
    return np.array(steps)


def _eigen(h: np.ndarray, names: tuple[str, ...], boundary: tuple[str, ...]) -> InformationSummary:
    """Eigen-analysis of the information scaled to unit diagonal; near-null directions as combinations."""
    d = np.diag(h)
    if h.size == 0:
        return InformationSummary(names, boundary, (), 1.0, (), True)
    if not np.all(np.isfinite(h)) or np.any(d <= 0):
        bad = [names[i] for i in range(len(names)) if not (np.isfinite(d[i]) and d[i] > 0)]
        undefined = tuple(ParameterCombination(0.0, {n: 1.0}) for n in bad)
        return InformationSummary(names, boundary, (), float("inf"), undefined, False)
    scale = 1.0 / np.sqrt(d)
    scaled = h * np.outer(scale, scale)
    w, v = np.linalg.eigh(0.5 * (scaled + scaled.T))
    rel = w / w[-1]
    positive = bool(w[0] > 0)
    combos: list[ParameterCombination] = []
    for k in np.nonzero(rel < NEAR_NULL)[0]:
        vec = v[:, k] * np.sign(v[np.argmax(np.abs(v[:, k])), k])
        combos.append(ParameterCombination(float(rel[k]), dict(zip(names, map(float, vec), strict=True))))
    condition = float(w[-1] / w[0]) if positive else float("inf")
    return InformationSummary(names, boundary, tuple(map(float, rel)), condition, tuple(combos), positive)


def observed_information(fit: Fit) -> Information:
    """Hessian of the criterion over the user-scale variance–covariance parameters at the fit."""
    varcov = VarCovMap(fit.model, fit.reml)
    phi = varcov.from_fit(fit.theta_internal, fit.sigma)
    terms = fit.boundary
    face = _Face(varcov, phi, terms)
    crit = Memo(lambda xi: varcov.criterion(face(xi)) if np.all(np.isfinite(face(xi))) else np.inf)
    xi0 = phi[face.free]
    steps = feasible_steps(crit, xi0, _steps(varcov, phi, face.free))
    h = hessian(crit, xi0, steps, crit(xi0))
    free_names = tuple(varcov.names[n] for n in face.free)
    boundary = tuple(varcov.names[n] for n in face.held)
    summary = _eigen(h, free_names, boundary)
    covariance, not_identified = _covariance(h, summary, free_names)
    components = _components(varcov, phi, face, covariance, not_identified)
    return Information(varcov, phi, terms, face.free, boundary, h, covariance, summary, components)


def _covariance(h: np.ndarray, summary: InformationSummary,
                names: tuple[str, ...]) -> tuple[np.ndarray | None, set[str]]:
    """``2 H⁻¹`` over the identified parameters (nan rows for the others) and the unidentified names."""
    not_identified = {n for combo in summary.near_null for n, v in combo.loadings.items() if abs(v) >= 0.1}
    keep = [i for i, n in enumerate(names) if n not in not_identified]
    if not keep:
        return None, not_identified
    sub = h[np.ix_(keep, keep)]
    if not np.all(np.isfinite(sub)):
        return None, not_identified | {names[i] for i in keep}
    try:
        chol = np.linalg.cholesky(sub)
    except np.linalg.LinAlgError:
        return None, not_identified | {names[i] for i in keep}
    inv = np.linalg.inv(chol)
    cov = np.full(h.shape, np.nan)
    cov[np.ix_(keep, keep)] = 2.0 * (inv.T @ inv)
    return cov, not_identified


def _components(varcov: VarCovMap, phi: np.ndarray, face: _Face, covariance: np.ndarray | None,
                not_identified: set[str]) -> tuple[VarianceComponent, ...]:
    mats, _ = varcov.covariances(phi)
    position = {int(n): k for k, n in enumerate(face.free)}
    rows = []
    for n, spec in enumerate(varcov.specs):
        est = float(phi[n])
        if spec.kind == "covariance":
            mat = mats[spec.block]
            denom = np.sqrt(mat[spec.i, spec.i] * mat[spec.j, spec.j])
            scale_value = float(est / denom) if denom > 0 else float("nan")
        else:
            scale_value = float(np.sqrt(max(est, 0.0)))
        se = z = None
        if n in face.held:
            status = "boundary"
        elif spec.name in not_identified:
            status = "not_identified"
        elif covariance is None:
            status = "undefined"
        else:
            k = position[n]
            var = covariance[k, k]
            if np.isfinite(var) and var >= 0:
                se = float(np.sqrt(var))
                status = "not_identified" if se <= _ZERO_SE * abs(est) else "ok"
                z = float(est / se) if se > 0 else None
            else:
                status = "undefined"
        rows.append(VarianceComponent(spec.name, spec.kind, est, scale_value, se, z, status))
    return tuple(rows)
