"""Effective degrees of freedom: trace of the hat matrix, against a dense computation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from diagnose_support import fitted

from lmmdx.diagnose.hat import effective_df


def _dense_trace(fit) -> float:
    design = fit.model.design
    n = design.nobs
    zs, lams = [], []
    for block, t in zip(design.blocks, fit.model.factors_to_user(fit.theta_internal), strict=True):
        z = np.zeros((n, block.nlevels * block.k))
        for j in range(block.k):
            z[np.arange(n), block.factor.codes * block.k + j] = block.values[:, j]
        zs.append(z)
        lams.append(np.kron(np.eye(block.nlevels), t))
    zl = np.hstack(zs) @ scipy.linalg.block_diag(*lams)
    m = np.hstack([zl, design.X])
    c = m.T @ m
    q = zl.shape[1]
    c[:q, :q] += np.eye(q)
    return float(np.trace(m @ np.linalg.solve(c, m.T)))


@pytest.mark.parametrize("name", ["sleep", "penicillin", "pastes", "seed", "dyestuff2"])
def test_trace_matches_dense_hat_matrix(name):
    fit = fitted(name)
    assert effective_df(fit.model, fit.theta_internal) == pytest.approx(_dense_trace(fit), rel=1e-9)


def test_limits():
    fit = fitted("dyestuff2")  # zero batch variance: only the intercept is fitted
    assert effective_df(fit.model, fit.theta_internal) == pytest.approx(1.0, abs=1e-9)
    fit = fitted("sleep")
    edf = effective_df(fit.model, fit.theta_internal)
    assert 2.0 < edf < 2.0 + 36.0
    assert edf == pytest.approx(29.0221, abs=1e-3)
