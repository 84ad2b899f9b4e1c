"""Internal centring and scaling, invisible in every result.

The optimum of the criterion does not depend on the units of the response or of
the covariates, nor on where a covariate is centred when its term has an
intercept, but the optimiser's path does. The engine therefore works on
transformed columns and maps every estimate back:

* y is divided by its root mean square ``s_y``;
* the columns of X are centred (when X has a constant column) and scaled:
  ``X_int = X A``;
* the left-hand-side columns of each random term are scaled, and centred when
  the term has an intercept and is unstructured (``(1 + x | g)``), which is an
  invertible linear map of the term's random effects: ``Z_int = Z Bᵢ``.

Then ``β = s_y A β_int``, ``bᵢ = s_y Bᵢ bᵢ_int``, ``σ = s_y σ_int`` and
``Σᵢ = Bᵢ Σᵢ_int Bᵢᵀ``. Zero-correlation terms (``||``) and terms without an
intercept are only scaled, because centring would change those models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Scaling", "column_transform", "psd_factor", "relative_factor_to_user"]


@dataclass(frozen=True, slots=True)
class Scaling:
    """The internal transformation of one model's columns.

    Attributes
    ----------
    y_scale : float
        ``s_y``.
    x_transform : ndarray, shape (p, p)
        ``A`` with ``X_int = X A``.
    z_transforms : tuple of ndarray, each (kᵢ, kᵢ)
        ``Bᵢ`` with ``Zᵢ_int = Zᵢ Bᵢ``, engine order.
    """

    y_scale: float
    x_transform: np.ndarray
    z_transforms: tuple[np.ndarray, ...]

    def beta_to_user(self, beta: np.ndarray) -> np.ndarray:
        """Fixed effects on the user's scale."""
        return self.y_scale * (self.x_transform @ beta)

    def vcov_to_user(self, vcov: np.ndarray) -> np.ndarray:
        """Covariance of the fixed effects on the user's scale."""
        a = self.x_transform
        return self.y_scale**2 * (a @ vcov @ a.T)

    def objective_shift(self, n: int, p: int, reml: bool) -> float:
        """What to add to the internal criterion to get the user-scale criterion."""
        shift = (n - p if reml else n) * 2.0 * np.log(self.y_scale)
        if reml and p:
            shift -= 2.0 * float(np.linalg.slogdet(self.x_transform)[1])
        return shift


def _is_constant(column: np.ndarray) -> bool:
    return column.size > 0 and bool(np.all(column == column[0])) and column[0] != 0


def column_transform(values: np.ndarray, allow_centring: bool) -> np.ndarray:
    """The ``k × k`` matrix that centres (if allowed and a constant column exists) and scales.

    Parameters
    ----------
    values : ndarray, shape (n, k)
    allow_centring : bool
    """
    k = values.shape[1]
    transform = np.eye(k)
    if k == 0:
        return transform
    constant = [j for j in range(k) if _is_constant(values[:, j])]
    centre = allow_centring and bool(constant)
    for j in range(k):
        if j in constant:
            transform[j, j] = 1.0 / abs(values[0, j])
            continue
        column = values[:, j]
        shift = float(column.mean()) if centre else 0.0
        spread = float(np.sqrt(np.mean((column - shift) ** 2)))
        if spread == 0.0 or not np.isfinite(spread):
            continue
        transform[j, j] = 1.0 / spread
        if centre:
            c = constant[0]
            # column_int = (column − shift)/spread = column/spread − shift/spread · (const / const₀)
            transform[c, j] = -shift / spread / values[0, c]
    return transform


def relative_factor_to_user(t_int: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Lower-triangular factor ``T`` with ``T Tᵀ = B T_int T_intᵀ Bᵀ`` and ``diag(T) ≥ 0``.

    Computed from a QR decomposition, so it is exact also when the covariance is singular.
    """
    m = transform @ t_int
    _, r = np.linalg.qr(m.T)
    t = r.T
    signs = np.where(np.diag(t) < 0, -1.0, 1.0)
    return t * signs[None, :]


#: A symmetric matrix whose smallest eigenvalue is above −this (relative to its largest) is taken
#: as positive semi-definite up to rounding.
PSD_TOLERANCE = 1e-10


def psd_factor(matrix: np.ndarray) -> np.ndarray | None:
    """Lower-triangular ``T`` with ``T Tᵀ = matrix`` and ``diag(T) ≥ 0``; None when not PSD.

    Cholesky when it succeeds; at rank deficiency (a correlation of ±1), where it
    fails, a symmetric square root rotated to triangular form.

    Parameters
    ----------
    matrix : ndarray, shape (k, k)
        Symmetric.
    """
    sym = 0.5 * (matrix + matrix.T)
    try:
        return np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        pass
    w, v = np.linalg.eigh(sym)
    if w[0] < -PSD_TOLERANCE * max(float(np.max(np.abs(w))), 1e-300):
        return None
    half = v * np.sqrt(np.clip(w, 0.0, None))[None, :]
    return relative_factor_to_user(half, np.eye(sym.shape[0]))
