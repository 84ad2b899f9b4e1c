"""A response the fixed part reproduces exactly: nothing is left for any variance.

With ``y = 2x + 1`` exactly, the least-squares fit of the fixed part leaves no
residual: the random effects and the residual both have variance zero, the
likelihood grows without bound as σ → 0, and no estimate of the variance
components exists (the "saturated" case of the seed write-up: zero effective
degrees of freedom for the residual). The design detects it before any
optimisation — from a QR decomposition of X, which is exact to rounding, unlike
the cross-products the engine works from — so that a fit refuses with one line
and the diagnosis reports it as a finding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EXACT_FIT_SHARE", "exact_fit_message", "unexplained_share"]

#: The fixed part reproduces the response when the residual sum of squares of its
#: least-squares fit is below this share of the response's sum of squares (about its mean
#: when X has an intercept): 7 significant digits, the precision to which the
#: cross-product engine resolves a residual variance.
EXACT_FIT_SHARE = 1e-14
#: Above this many cells of X the (copying) QR is skipped: the engine's own guard reports failures.
_MAX_CELLS = 50_000_000


def unexplained_share(X: np.ndarray, y: np.ndarray, intercept: bool) -> float | None:
    """Residual sum of squares of y's least-squares fit on X, as a share of y's sum of squares.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    intercept : bool
        X contains the intercept: y's sum of squares is taken about its mean.

    Returns
    -------
    float or None
        None when X is too large to decompose cheaply or y has no variation.
    """
    n, p = X.shape
    if n * max(p, 1) > _MAX_CELLS or n <= p:
        return None
    total = float(np.sum((y - y.mean()) ** 2)) if intercept else float(y @ y)
    if not total > 0 or not np.isfinite(total):
        return None
    if p == 0:
        return 1.0
    with np.errstate(all="ignore"):
        q, _ = np.linalg.qr(X)
        residual = y - q @ (q.T @ y)
        share = float(residual @ residual) / total
    return share if np.isfinite(share) else None


def exact_fit_message(response: str, share: float) -> str:
    """The one-line refusal of a response that the fixed part reproduces."""
    digits = int(min(16, max(0, -np.log10(max(share, 1e-32)) / 2)))
    return (
        f"the fixed part reproduces the response {response!r} exactly (to {digits} significant digits): "
        "nothing is left for the random effects or the residual, so their variances have no estimate "
        "(the residual has zero degrees of freedom); check that the response is not computed from the "
        "covariates, or leave those covariates out"
    )
