"""Map the estimates of a refit onto the parametrisation of a reference fit and compare them.

A variant (:mod:`lmmdx.invariance.variants`) changes the model matrices by
invertible column maps: ``X_b = X_a N`` and, for each random term,
``Z_b = Z_a C``. Hence ``β_a = N β_b``, ``Var(β_a) = N Var(β_b) Nᵀ``,
``Σ_a = C Σ_b Cᵀ``, σ is unchanged, the ML deviance is unchanged and the REML
criterion moves by the constant ``2 log|det N|``. The maps are found by least
squares on the aligned rows, and a variant whose maps are not exact is not a
reparametrisation (e.g. ``log(x)`` without an intercept under rescaling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boundary import correlations
from ..finding import coefficient_name, correlation_name, sd_name
from ..result import Fit

__all__ = ["EXACT_MAP_TOLERANCE", "OBJECTIVE", "RESIDUAL_SD", "Mapped", "estimates", "is_correlation", "map_onto",
           "relative_difference"]

#: Key of the criterion in :func:`estimates`.
OBJECTIVE = "objective"
#: Key of σ in :func:`estimates`.
RESIDUAL_SD = "residual SD"

#: A column map is exact when the residual of its least-squares fit is below this
#: fraction of the columns' norm (well above rounding, far below any real difference).
EXACT_MAP_TOLERANCE = 1e-8


@dataclass(frozen=True, slots=True)
class Mapped:
    """Estimates of a refit expressed in the reference fit's parametrisation.

    Attributes
    ----------
    values : dict of str to float
        Same keys as :func:`estimates` of the reference fit.
    reason : str or None
        Why the refit could not be mapped (then ``values`` is empty).
    """

    values: dict[str, float]
    reason: str | None = None


def _covariances(fit: Fit) -> list[np.ndarray]:
    factors = fit.model.deviance.layout.factors(fit.theta)
    return [fit.sigma**2 * (t @ t.T) for t in factors]


def _named(fit: Fit, beta: np.ndarray, vcov: np.ndarray, sigma: float, covs: list[np.ndarray]) -> dict[str, float]:
    out: dict[str, float] = {}
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0)) if vcov.size else np.zeros(0)
    for name, b, s in zip(fit.fixed_names, beta, se, strict=True):
        out[coefficient_name(name)] = float(b)
        out[f"SE of {coefficient_name(name)}"] = float(s)
    out[RESIDUAL_SD] = float(sigma)
    for block, cov in zip(fit.model.design.blocks, covs, strict=True):
        sd, corr = correlations(cov)
        for j, column in enumerate(block.columns):
            out[sd_name(block.group, column)] = float(sd[j])
        for j in range(block.k):
            for i in range(j + 1, block.k):
                out[correlation_name(block.group, block.columns[j], block.columns[i])] = float(corr[i, j])
    return out


def estimates(fit: Fit) -> dict[str, float]:
    """The objective and every estimate of ``fit``, keyed by its name in words.

    Keys: ``"objective"``, ``"coefficient of x"``, ``"SE of coefficient of x"``,
    ``"residual SD"``, ``"slope SD of x by g"``, ``"correlation of intercept and x by g"``.
    """
    return {OBJECTIVE: fit.objective, **_named(fit, fit.beta, fit.vcov_beta, fit.sigma, _covariances(fit))}


def _exact_map(source: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """``N`` with ``target = source N`` when it exists (None otherwise)."""
    if source.shape[1] == 0 or target.shape[1] == 0:
        return np.zeros((source.shape[1], target.shape[1])) if source.shape[1] == target.shape[1] else None
    if source.shape[1] != target.shape[1]:
        return None
    n_map = np.linalg.lstsq(source, target, rcond=None)[0]
    scale = max(float(np.linalg.norm(target)), 1e-300)
    if float(np.linalg.norm(source @ n_map - target)) > EXACT_MAP_TOLERANCE * scale:
        return None
    return n_map


def map_onto(reference: Fit, ref_positions: np.ndarray, refit: Fit, refit_positions: np.ndarray) -> Mapped:
    """Express ``refit``'s estimates in ``reference``'s parametrisation.

    Parameters
    ----------
    reference, refit : Fit
    ref_positions, refit_positions : ndarray of int, shape (n,)
        Position in a common table of each row of the two designs, in design order.
    """
    ra, rb = np.argsort(ref_positions, kind="stable"), np.argsort(refit_positions, kind="stable")
    if not np.array_equal(np.sort(ref_positions), np.sort(refit_positions)):
        return Mapped({}, "the refit used other rows")
    da, db = reference.model.design, refit.model.design
    n_map = _exact_map(da.X[ra], db.X[rb])
    if n_map is None:
        return Mapped({}, "the fixed-effects columns are not a reparametrisation of the original ones")
    beta = n_map @ refit.beta
    vcov = n_map @ refit.vcov_beta @ n_map.T
    shift = 0.0
    if reference.reml and n_map.size:
        shift = 2.0 * float(np.linalg.slogdet(n_map)[1])
    covs_b = _covariances(refit)
    covs: list[np.ndarray] = []
    used: set[int] = set()
    for block in da.blocks:
        za = block.values[ra]
        for index, other in enumerate(db.blocks):
            if index in used or other.group != block.group or other.k != block.k:
                continue
            c_map = _exact_map(za, other.values[rb])
            if c_map is not None and _same_grouping(block.factor.codes[ra], other.factor.codes[rb]):
                used.add(index)
                covs.append(c_map @ covs_b[index] @ c_map.T)
                break
        else:
            return Mapped({}, f"no random-effects term of the refit matches {block.term.text}")
    values = {OBJECTIVE: refit.objective - shift, **_named(reference, beta, vcov, refit.sigma, covs)}
    return Mapped(values)


def _same_grouping(codes_a: np.ndarray, codes_b: np.ndarray) -> bool:
    """Whether two code vectors define the same partition of the rows (labels may differ)."""
    pairs = np.unique(np.column_stack([codes_a, codes_b]), axis=0)
    return pairs.shape[0] == np.unique(codes_a).size == np.unique(codes_b).size


def relative_difference(a: float, b: float, floor: float = 0.0) -> float:
    """``|a − b| / max(|a|, |b|, floor)``: 0 when equal (also both NaN), inf when only one is NaN.

    ``floor=1`` measures a correlation on its own scale, [-1, 1] (so a correlation
    near 0 is not judged relative to its tiny value).
    """
    if np.isnan(a) or np.isnan(b):
        return 0.0 if np.isnan(a) and np.isnan(b) else float("inf")
    scale = max(abs(a), abs(b), floor)
    return 0.0 if scale == 0.0 else abs(a - b) / scale


def is_correlation(key: str) -> bool:
    """Whether a key of :func:`estimates` names a correlation."""
    return key.startswith("correlation of ")
