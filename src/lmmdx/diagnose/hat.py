"""Effective degrees of freedom of a mixed-model fit: the trace of its hat matrix.

The fitted values ``Xβ̂ + Zb̂`` are ``H y`` with ``H = [ZΛ X] C⁻¹ [ZΛ X]ᵀ`` and
``C = [ZΛ X]ᵀ[ZΛ X] + diag(I_q, 0)`` the penalised cross-product matrix over the
spherical random effects u and β. Hence ::

    tr H = tr(C⁻¹ (C − diag(I_q, 0))) = q + p − tr((C⁻¹)_uu)

(Hodges & Sargent 2001). The first term (most levels) has a block-diagonal C₁₁,
so ``(C⁻¹)_uu`` is computed by the Schur complement ``S = C₂₂ − C₂₁ C₁₁⁻¹ C₁₂``
over the rest (other terms and X), never forming a dense q × q matrix for it.
The trace does not depend on the internal scaling, so it is computed there.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..model import Model

__all__ = ["effective_df"]


def _rest_lambda(model: Model, factors: list[np.ndarray]) -> np.ndarray:
    """Diagonal blocks of Λ over the rest rows (other terms, then X); identity on X."""
    blocks = model.blocks
    parts = [sp.kron(sp.eye_array(nlev), sp.csr_array(t)) for nlev, t in zip(blocks.levels[1:], factors[1:],
                                                                             strict=True)]
    parts.append(sp.eye_array(blocks.p))
    return sp.block_diag(parts, format="csr")


def effective_df(model: Model, theta: np.ndarray) -> float:
    """``tr H``, the effective number of parameters of the fit at internal θ.

    Parameters
    ----------
    model : Model
    theta : ndarray, shape (ntheta,)
        Internal θ.

    Returns
    -------
    float
        Between p and min(n, p + q).
    """
    blocks = model.blocks
    factors = model.deviance.engine_factors(theta)
    t1 = factors[0]
    k1, l1 = t1.shape[0], blocks.levels[0]
    m = blocks.m - 1  # drop the y row
    q_rest = m - blocks.p
    # C11: per level T1ᵀ A_j T1 + I, and its inverse
    c11 = t1.T @ blocks.a11 @ t1 + np.eye(k1)
    c11_inv = np.linalg.inv(c11)
    lam_rest = _rest_lambda(model, factors)
    # C21 = Λ_restᵀ (RᵀZ₁) Λ₁ with Λ₁ = I ⊗ T1, rows without y
    a21 = sp.csr_array(blocks.a21)[:m, :]
    lam1 = sp.kron(sp.eye_array(l1), sp.csr_array(t1), format="csr")
    c21 = sp.csr_array(lam_rest.T @ a21 @ lam1)
    rows = np.repeat(np.arange(l1 * k1).reshape(l1, k1), k1, axis=1).ravel()
    cols = np.tile(np.arange(l1 * k1).reshape(l1, k1), (1, k1)).ravel()
    d_inv = sp.csr_array((c11_inv.ravel(), (rows, cols)), shape=(l1 * k1, l1 * k1))
    p_mat = sp.csr_array(c21 @ d_inv)
    c22 = np.asarray(lam_rest.T @ blocks.a22[:m, :m] @ lam_rest)
    c22[np.arange(q_rest), np.arange(q_rest)] += 1.0
    schur = c22 - np.asarray((p_mat @ c21.T).toarray())
    s_inv = np.linalg.inv(0.5 * (schur + schur.T))
    ppt = np.asarray((p_mat @ p_mat.T).toarray())
    trace_uu = float(np.trace(c11_inv, axis1=1, axis2=2).sum()) + float(np.sum(s_inv * ppt))
    trace_uu += float(np.trace(s_inv[:q_rest, :q_rest]))
    return float(l1 * k1 + q_rest + blocks.p - trace_uu)
