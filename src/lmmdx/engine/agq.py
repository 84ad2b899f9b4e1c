"""Adaptive Gauss–Hermite quadrature for a GLMM with one scalar random-effects term.

With a single scalar term the integral over the random effects factors into one
one-dimensional integral per level. Each is centred at the conditional mode ``u_j`` and scaled
by the conditional standard deviation ``1/√D_j`` (``D_j`` the level's diagonal of the penalised
weighted cross-product matrix), then evaluated with the Gauss–Hermite rule for the standard
normal density (Pinheiro & Bates 1995; lme4's ``glmerAGQ``). With one node it is the Laplace
approximation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .family import Family

__all__ = ["MAX_NODES", "agq_criterion", "hermite_rule"]

MAX_NODES = 25


@lru_cache(maxsize=32)
def hermite_rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of the ``nodes``-point rule for the standard normal density.

    Symmetrised (nodes and weights averaged with their mirror images) so that the rule is exactly
    symmetric, as lme4 and MixedModels.jl do.
    """
    if not 1 <= nodes <= MAX_NODES:
        raise ValueError(f"nAGQ must be between 1 and {MAX_NODES}, got {nodes}")
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    z = (z - z[::-1]) / 2.0
    w = (w + w[::-1]) / 2.0
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


def agq_criterion(
    family: Family,
    y: np.ndarray,
    wt: np.ndarray,
    fixed: np.ndarray,
    codes: np.ndarray,
    zlam: np.ndarray,
    u: np.ndarray,
    d: np.ndarray,
    nodes: int,
) -> float:
    """The quadrature criterion less the saturated constant (lme4's ``glmerAGQ`` value).

    Parameters
    ----------
    fixed : ndarray, shape (n,)
        Offset plus Xβ.
    codes : ndarray of int, shape (n,)
        Level of each row.
    zlam : ndarray, shape (n,)
        Each row's value of the term times λ (θ).
    u : ndarray, shape (ℓ,)
        Conditional modes (spherical).
    d : ndarray, shape (ℓ,)
        ``λ² Σ_{i∈j} w_i z_i² + 1`` at the mode.
    """
    nlev = u.size
    z, w = hermite_rule(nodes)
    sd = 1.0 / np.sqrt(d)

    def level_deviance(values: np.ndarray) -> np.ndarray:
        mu = family.linkinv(fixed + zlam * values[codes])
        return values * values + np.bincount(codes, family.dev_resid(y, mu, wt), minlength=nlev)

    dev0 = level_deviance(u)
    mult = np.zeros(nlev)
    for zk, wk in zip(z.tolist(), w.tolist(), strict=True):
        if zk == 0.0:
            mult += wk
            continue
        dev = level_deviance(u + zk * sd)
        mult += wk * np.exp(-0.5 * (dev - dev0) + 0.5 * zk * zk)
    return float(dev0.sum() + np.log(d).sum() - 2.0 * np.log(mult).sum())
