"""The closed-form gradient against central finite differences."""

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
@pytest.mark.parametrize("mode", ["cells", "pairs", "dense"])
def test_gradient_matches_finite_differences(shapes, reml, mode, monkeypatch):
    force_mode(monkeypatch, mode)
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


@pytest.mark.parametrize("mode", ["cells", "pairs", "dense"])
def test_gradient_of_terms_on_one_factor(mode, monkeypatch):
    """A block of two members (``(1 + x || g)`` beside a crossed term): closed form = differences,
    also with one member at 0 (its own components then come from differences, the other's stay closed)."""
    force_mode(monkeypatch, mode)
    rng = np.random.default_rng(23)
    y, X, terms = random_problem(rng, [(8, 2), (5, 1)])
    values = np.column_stack([terms[0].values, rng.normal(size=y.size)])
    merged = TermData(terms[0].codes, values, 8, (2, 1))
    dev = ProfiledDeviance(cross_products(y, X, [merged, terms[1]]))
    assert dev.ntheta == 5
    for theta in (np.array([0.8, -0.3, 0.6, 0.7, 1.1]), np.array([0.8, -0.3, 0.6, 0.0, 1.1])):
        for reml in (True, False):
            _, grad = value_and_gradient(dev, theta, reml)
            expected = central_differences(dev, theta, reml)
            if theta[3] == 0.0:
                assert grad[3] == 0.0
                keep = [0, 1, 2, 4]
                np.testing.assert_allclose(grad[keep], expected[keep], rtol=1e-5, atol=1e-5)
            else:
                np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-5)
