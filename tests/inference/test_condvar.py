"""Conditional variances of the random effects (lme4's condVar): a closed form and a dense computation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import block_diag
from support import load

import lmmdx


def _fit(formula: str, data: pd.DataFrame) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, data)


def _term_covariance(fit: lmmdx.Fit, group: str, columns: tuple[str, ...]) -> np.ndarray:
    sd = {c.term: c.sd for c in fit.random_effects if c.group == group and c.term in columns}
    cov = np.diag([sd[c] ** 2 for c in columns])
    for c in fit.correlations:
        if c.group == group and c.term1 in columns and c.term2 in columns:
            i, j = columns.index(c.term1), columns.index(c.term2)
            cov[i, j] = cov[j, i] = c.corr * sd[c.term1] * sd[c.term2]
    return cov


def _dense(fit: lmmdx.Fit) -> list[np.ndarray]:
    """σ² Λ (ΛᵀZᵀZΛ + I)⁻¹ Λᵀ from the user-scale estimates, with dense matrices (any factor Λ of Σ/σ²)."""
    design = fit.model.design
    n = design.nobs
    zs, lams = [], []
    for block in design.blocks:
        z = np.zeros((n, block.nlevels * block.k))
        for j in range(block.k):
            z[np.arange(n), block.factor.codes * block.k + j] = block.values[:, j]
        zs.append(z)
        w, v = np.linalg.eigh(_term_covariance(fit, block.group, block.columns) / fit.sigma**2)
        lams.append(np.kron(np.eye(block.nlevels), v * np.sqrt(np.maximum(w, 0.0))))
    z, lam = np.hstack(zs), block_diag(*lams)
    cov = fit.sigma**2 * lam @ np.linalg.inv(lam.T @ z.T @ z @ lam + np.eye(z.shape[1])) @ lam.T
    out, at = [], 0
    for block in design.blocks:
        k = block.k
        out.append(np.array([cov[at + j * k : at + (j + 1) * k, at + j * k : at + (j + 1) * k]
                             for j in range(block.nlevels)]))
        at += block.nlevels * k
    return out


def test_random_intercept_has_the_closed_form():
    """One scalar term: Var(b_j | y) = 1 / (n_j / σ² + 1 / τ²), with unequal group sizes."""
    data = load("sleepstudy.csv")
    data = data[~(((data["Subject"] == 308) & (data["Days"] > 3)) | ((data["Subject"] == 309) & (data["Days"] > 6)))]
    fit = _fit("Reaction ~ Days + (1 | Subject)", data)
    (variances,) = fit.conditional_variances()
    counts = data.groupby("Subject").size()
    tau = next(c.sd for c in fit.random_effects if c.group == "Subject")
    expected = 1.0 / (counts.loc[[int(v) for v in fit.conditional_modes[0].levels]].to_numpy() / fit.sigma**2
                      + 1.0 / tau**2)
    assert len(set(counts)) > 1
    np.testing.assert_allclose(variances[:, 0, 0], expected, rtol=1e-10)


@pytest.mark.parametrize(("name", "formula"), [
    ("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
    ("sleepstudy.csv", "Reaction ~ Days + (Days || Subject)"),
    ("Penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ("Pastes.csv", "strength ~ 1 + (1 | batch/cask)"),
    ("seed_example.csv", "y ~ x + (x | group)"),
])
def test_matches_the_dense_computation(name, formula):
    fit = _fit(formula, load(name))
    ours = fit.conditional_variances()
    assert [v.shape for v in ours] == [(len(m.levels), m.values.shape[1], m.values.shape[1])
                                      for m in fit.conditional_modes]
    for mine, dense in zip(ours, _dense(fit), strict=True):
        np.testing.assert_allclose(mine, dense, rtol=1e-8, atol=1e-12 * np.max(np.abs(dense)))
        assert np.all(np.linalg.eigvalsh(mine) >= -1e-12 * np.max(np.abs(dense)))


def test_matches_the_dense_computation_with_uncorrelated_terms_on_a_crossed_factor():
    """(x || h) is one engine block of two terms, here not the first block (g has more levels)."""
    rng = np.random.default_rng(11)
    g, h = np.repeat(np.arange(30), 8), np.tile(np.arange(6), 40)
    x = rng.normal(size=240)
    y = 1 + x + rng.normal(size=30)[g] + rng.normal(size=6)[h] + 0.5 * rng.normal(size=6)[h] * x + rng.normal(size=240)
    fit = _fit("y ~ x + (1 | g) + (x || h)", pd.DataFrame({"y": y, "x": x, "g": g.astype(str), "h": h.astype(str)}))
    ours = fit.conditional_variances()
    assert [m.group for m in fit.conditional_modes] == ["g", "h", "h"]
    for mine, dense in zip(ours, _dense(fit), strict=True):
        np.testing.assert_allclose(mine, dense, rtol=1e-8)


def test_a_zero_variance_has_zero_conditional_variance():
    fit = _fit("Yield ~ 1 + (1 | Batch)", load("Dyestuff2.csv"))
    assert fit.singular
    np.testing.assert_array_equal(fit.conditional_variances()[0], 0.0)
