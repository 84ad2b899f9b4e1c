"""The closed-form gradient against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from support import CASES, random_problem

from lmmdx.engine import ProfiledDeviance, cross_products
from lmmdx.engine import schur as schur_module
from lmmdx.engine.gradient import value_and_gradient


def central_differences(dev, theta, reml, h=1e-6):
    out = np.empty(theta.size)
    for e in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[e] += h
        down[e] -= h
        out[e] = (dev(up, reml) - dev(down, reml)) / (2 * h)
    return out


@pytest.mark.parametrize("shapes", CASES, ids=lambda s: "+".join(f"{a}x{b}" for a, b in s))
@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_matches_finite_differences(shapes, reml, sparse, monkeypatch):
    if sparse:
        monkeypatch.setattr(schur_module, "DENSE_OPERATOR_LIMIT", 0)
    rng = np.random.default_rng(11 + len(shapes))
    y, X, terms = random_problem(rng, shapes)
    dev = ProfiledDeviance(cross_products(y, X, terms))
    for _ in range(2):
        theta = rng.normal(size=dev.ntheta)
        theta[dev.layout.diagonal_mask()] = 0.3 + np.abs(theta[dev.layout.diagonal_mask()])
        value, grad = value_and_gradient(dev, theta, reml)
        assert value == pytest.approx(dev(theta, reml), rel=1e-12)
        np.testing.assert_allclose(grad, central_differences(dev, theta, reml), rtol=1e-5, atol=1e-5)


def test_scalar_term_at_zero_has_zero_gradient():
    rng = np.random.default_rng(5)
    y, X, terms = random_problem(rng, [(8, 1), (5, 1)])
    dev = ProfiledDeviance(cross_products(y, X, terms))
    _, grad = value_and_gradient(dev, np.array([0.7, 0.0]), reml=True)
    assert grad[1] == 0.0
    assert grad[0] == pytest.approx(central_differences(dev, np.array([0.7, 0.0]), True)[0], rel=1e-5)
