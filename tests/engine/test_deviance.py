"""The blocked criterion against a brute-force dense computation on small random designs."""

from __future__ import annotations

import numpy as np
import pytest
from support import CASES, random_problem

from lmmdx.engine import ProfiledDeviance, TermData, cross_products
from lmmdx.engine import schur as schur_module


def force_mode(monkeypatch, mode):
    """Make the Schur operator take one of its three ways whatever the sizes."""
    if mode != "cells":
        monkeypatch.setattr(schur_module, "DENSE_OPERATOR_LIMIT", 0)
    monkeypatch.setattr(schur_module, "PAIR_COST", 0.0 if mode == "pairs" else 1e30)


def brute_force(y, X, terms, theta, reml):
    """−2 log-likelihood (or REML criterion) with β and σ profiled out, from V directly."""
    n, p = X.shape
    zs, lams = [], []
    at = 0
    for t in terms:
        k = t.values.shape[1]
        z = np.zeros((n, t.nlevels * k))
        for i in range(n):
            z[i, t.codes[i] * k : t.codes[i] * k + k] = t.values[i]
        rows, cols = np.triu_indices(k)
        tri = np.zeros((k, k))
        size = rows.size
        tri[cols, rows] = theta[at : at + size]
        at += size
        zs.append(z)
        lams.append(np.kron(np.eye(t.nlevels), tri))
    z = np.hstack(zs)
    lam = np.zeros((z.shape[1], z.shape[1]))
    o = 0
    for block in lams:
        lam[o : o + block.shape[0], o : o + block.shape[0]] = block
        o += block.shape[0]
    v = z @ lam @ lam.T @ z.T + np.eye(n)  # V / σ²
    vinv = np.linalg.inv(v)
    xtvx = X.T @ vinv @ X
    beta = np.linalg.solve(xtvx, X.T @ vinv @ y)
    r = y - X @ beta
    rss = r @ vinv @ r
    logdet_v = np.linalg.slogdet(v)[1]
    if reml:
        dof = n - p
        return logdet_v + np.linalg.slogdet(xtvx)[1] + dof * (1 + np.log(2 * np.pi * rss / dof))
    return logdet_v + n * (1 + np.log(2 * np.pi * rss / n))


@pytest.mark.parametrize("shapes", CASES, ids=lambda s: "+".join(f"{a}x{b}" for a, b in s))
@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("mode", ["cells", "pairs", "dense"])
def test_blocked_criterion_equals_dense_formula(shapes, reml, mode, monkeypatch):
    force_mode(monkeypatch, mode)
    rng = np.random.default_rng(len(shapes) * 7 + sum(a * b for a, b in shapes))
    y, X, terms = random_problem(rng, shapes)
    dev = ProfiledDeviance(cross_products(y, X, terms))
    for _ in range(3):
        theta = rng.normal(size=dev.ntheta)
        theta[dev.layout.diagonal_mask()] = np.abs(theta[dev.layout.diagonal_mask()])
        assert dev(theta, reml) == pytest.approx(brute_force(y, X, terms, theta, reml), rel=1e-10)


def test_solution_matches_generalised_least_squares():
    rng = np.random.default_rng(3)
    y, X, terms = random_problem(rng, [(7, 2), (4, 1)])
    dev = ProfiledDeviance(cross_products(y, X, terms))
    theta = np.array([0.8, 0.3, 0.5, 1.2])
    sol = dev.solve(theta, reml=True)
    # β̂ = (X'V⁻¹X)⁻¹X'V⁻¹y with V = σ²(ZΛΛ'Z' + I)
    n = y.size
    z1 = np.zeros((n, 14))
    for i in range(n):
        z1[i, terms[0].codes[i] * 2 : terms[0].codes[i] * 2 + 2] = terms[0].values[i]
    z2 = np.zeros((n, 4))
    z2[np.arange(n), terms[1].codes] = 1.0
    t1 = np.array([[0.8, 0.0], [0.3, 0.5]])
    lam = np.block([[np.kron(np.eye(7), t1), np.zeros((14, 4))], [np.zeros((4, 14)), 1.2 * np.eye(4)]])
    z = np.hstack([z1, z2])
    v = z @ lam @ lam.T @ z.T + np.eye(n)
    vinv = np.linalg.inv(v)
    beta = np.linalg.solve(X.T @ vinv @ X, X.T @ vinv @ y)
    np.testing.assert_allclose(sol.beta, beta, rtol=1e-10)
    # conditional modes: b = ΛΛ'Z'V⁻¹(y − Xβ)
    b = lam @ lam.T @ z.T @ vinv @ (y - X @ beta)
    np.testing.assert_allclose(np.concatenate([sol.b[0].ravel(), sol.b[1].ravel()]), b, atol=1e-10)
    # Var(β̂) = σ²(X'V⁻¹X)⁻¹
    np.testing.assert_allclose(sol.vcov_beta, sol.sigma**2 * np.linalg.inv(X.T @ vinv @ X), rtol=1e-9)
    r = y - X @ beta
    assert sol.sigma**2 == pytest.approx(r @ vinv @ r / (n - 2), rel=1e-10)


def amalgamated(terms, first, second):
    """The terms with ``second`` folded into ``first`` (same codes): one block of two members."""
    a, b = terms[first], terms[second]
    merged = TermData(a.codes, np.hstack([a.values, b.values]), a.nlevels, (*a.sizes, *b.sizes))
    return [merged if i == first else t for i, t in enumerate(terms) if i != second]


@pytest.mark.parametrize("shapes", [[(7, 1), (7, 1)], [(8, 2), (8, 1), (3, 1)], [(6, 1), (4, 1), (4, 2)]],
                         ids=lambda s: "+".join(f"{a}x{b}" for a, b in s))
@pytest.mark.parametrize("mode", ["cells", "pairs", "dense"])
def test_terms_on_one_factor_as_one_block(shapes, mode, monkeypatch):
    """(1 + x || g) as one block with a block-diagonal factor equals the two terms kept apart."""
    force_mode(monkeypatch, mode)
    rng = np.random.default_rng(17)
    y, X, terms = random_problem(rng, shapes)
    pair = (1, 2) if shapes[1][0] == shapes[2 % len(shapes)][0] and len(shapes) == 3 else (0, 1)
    terms[pair[1]] = TermData(terms[pair[0]].codes, terms[pair[1]].values, terms[pair[0]].nlevels)
    apart = ProfiledDeviance(cross_products(y, X, terms))
    together = ProfiledDeviance(cross_products(y, X, amalgamated(terms, *pair)))
    assert together.ntheta == apart.ntheta
    assert len(together.blocks.levels) == len(terms) - 1
    for _ in range(3):
        theta = rng.normal(size=apart.ntheta)
        theta[apart.layout.diagonal_mask()] = np.abs(theta[apart.layout.diagonal_mask()])
        for reml in (True, False):
            assert together(theta, reml) == pytest.approx(apart(theta, reml), rel=1e-10)
        a, t = apart.solve(theta, True), together.solve(theta, True)
        np.testing.assert_allclose(t.beta, a.beta, rtol=1e-9)
        for ba, bt in zip(a.b, t.b, strict=True):
            np.testing.assert_allclose(bt, ba, atol=1e-9)
