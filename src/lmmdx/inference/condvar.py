"""Conditional variances of the random effects, as lme4's ``ranef(fit, condVar = TRUE)``.

Given θ, σ and β at their estimates, the random effects are normal given the data with
covariance ``σ² Λ C⁻¹ Λᵀ``, ``C = ΛᵀZᵀZΛ + I`` (the penalised cross-product of the
spherical random effects; Bates et al. 2015, JSS 67(1), section 3.2). Only the diagonal
blocks of ``C⁻¹`` are needed: one ``k × k`` block per level of each term. The first term
(most levels) has a block-diagonal ``C₁₁`` and is eliminated level by level; the rest is
the Schur complement ``S = C₂₂ − C₂₁ C₁₁⁻¹ C₁₂``, dense, of the order the criterion
already factors. The blocks of ``C⁻¹`` are then ``C₁₁ⱼ⁻¹ + Pⱼᵀ S⁻¹ Pⱼ`` (``P = C₂₁ C₁₁⁻¹``)
for the first term and the diagonal blocks of ``S⁻¹`` for the others. The computation
runs on the internal scale, over the engine's blocks (terms on one grouping factor, as in
``(1 + x || g)``, are one block with a block-diagonal factor), and is mapped to the user's terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from ..result import Fit

__all__ = ["conditional_variances"]

#: Columns of ``P`` handled at once for the first term's blocks (bounds the dense work array).
_CHUNK = 2048


def _lambda(levels: int, factor: np.ndarray) -> sp.csr_array:
    return sp.csr_array(sp.kron(sp.eye_array(levels), sp.csr_array(factor), format="csr"))


def _inverse_blocks(levels: tuple[int, ...], sizes: tuple[int, ...], factors: list[np.ndarray],
                    a11: np.ndarray, a21: sp.csc_array, a22: np.ndarray, q_rest: int) -> list[np.ndarray]:
    """Diagonal blocks of ``C⁻¹`` (internal scale), one array (levels, k, k) per term."""
    t1, k1, l1 = factors[0], sizes[0], levels[0]
    c11 = t1.T @ a11 @ t1 + np.eye(k1)
    d_inv = np.linalg.inv(0.5 * (c11 + np.swapaxes(c11, 1, 2)))
    if q_rest == 0:
        return [d_inv]
    lam_rest = sp.csr_array(sp.block_diag([_lambda(n, t) for n, t in zip(levels[1:], factors[1:], strict=True)],
                                          format="csr"))
    c21 = sp.csr_array(lam_rest.T @ sp.csr_array(a21)[:q_rest, :] @ _lambda(l1, t1))
    rows = np.repeat(np.arange(l1 * k1).reshape(l1, k1), k1, axis=1).ravel()
    cols = np.tile(np.arange(l1 * k1).reshape(l1, k1), (1, k1)).ravel()
    p_mat = sp.csc_array(c21 @ sp.csr_array((d_inv.ravel(), (rows, cols)), shape=(l1 * k1, l1 * k1)))
    c22 = np.asarray(lam_rest.T @ a22[:q_rest, :q_rest] @ lam_rest)
    c22[np.diag_indices(q_rest)] += 1.0
    schur = c22 - np.asarray((p_mat @ c21.T).toarray())
    s_inv = np.linalg.inv(0.5 * (schur + schur.T))
    first = d_inv.copy()
    step = max(1, _CHUNK // k1)
    for start in range(0, l1, step):
        stop = min(l1, start + step)
        block = p_mat[:, start * k1 : stop * k1].toarray().reshape(q_rest, stop - start, k1)
        weighted = (s_inv @ block.reshape(q_rest, -1)).reshape(q_rest, stop - start, k1)
        first[start:stop] += np.einsum("rja,rjb->jab", block, weighted)
    out = [first]
    at = 0
    for n, k in zip(levels[1:], sizes[1:], strict=True):
        idx = at + np.arange(n * k).reshape(n, k)
        out.append(s_inv[idx[:, :, None], idx[:, None, :]])
        at += n * k
    return out


def conditional_variances(fit: Fit) -> tuple[np.ndarray, ...]:
    """Covariance of each level's random effects given the data, on the user's scale.

    Parameters
    ----------
    fit : Fit

    Returns
    -------
    tuple of ndarray
        One array of shape (levels, k, k) per term, aligned with
        :attr:`Fit.conditional_modes` (same levels, same columns). A term whose
        variance is 0 has zero conditional variance, as in lme4.
    """
    model = fit.model
    blocks = model.blocks
    theta = fit.theta_internal
    inverse = _inverse_blocks(blocks.levels, blocks.sizes, model.deviance.engine_factors(theta), blocks.a11,
                              blocks.a21, blocks.a22, blocks.q_rest)
    terms = iter(zip(model.deviance.layout.factors(theta), model.scaling.z_transforms, strict=True))
    out = []
    for inv, members in zip(inverse, blocks.term_members, strict=True):
        at = 0
        for k in members:  # an engine block holds the formula's terms on one factor, block diagonally
            t, transform = next(terms)
            m = transform @ t
            cov = fit.sigma**2 * np.einsum("ia,jab,kb->jik", m, inv[:, at : at + k, at : at + k], m)
            cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
            cov.setflags(write=False)
            out.append(cov)
            at += k
    return tuple(out)
