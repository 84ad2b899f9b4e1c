"""Simulating responses from a fit, and refitting."""

from __future__ import annotations

import numpy as np
import pytest
from support import reference_fit

from lmmdx.simulate import simulate


def test_simulated_moments_match_the_model():
    fit = reference_fit("dyestuff_reml")  # 6 batches x 5, sd_batch 42.0, sigma 49.5
    sims = simulate(fit, nsim=4000, seed=1)
    assert sims.shape == (4000, 30)
    assert sims.mean() == pytest.approx(fit.beta[0], rel=1e-3)
    codes = fit.model.design.blocks[0].factor.codes
    batch_means = np.stack([sims[:, codes == j].mean(axis=1) for j in range(6)], axis=1)
    sd_b, sigma = fit.random_effects[0].sd, fit.sigma
    assert batch_means.var(axis=0).mean() == pytest.approx(sd_b**2 + sigma**2 / 5, rel=0.05)
    within = (sims - batch_means[:, codes]).var(axis=1, ddof=0).mean() * 30 / 24
    assert within == pytest.approx(sigma**2, rel=0.05)


def test_seeded():
    fit = reference_fit("sleepstudy_slope_reml")
    np.testing.assert_array_equal(simulate(fit, 3, seed=5), fit.simulate(3, seed=5))
    assert not np.array_equal(simulate(fit, 1, seed=5), simulate(fit, 1, seed=6))
    assert simulate(fit, 0).shape == (0, 180)


def test_refit_to_own_response_is_the_fit():
    fit = reference_fit("sleepstudy_slope_reml")
    again = fit.refit(fit.model.design.y)
    assert again.objective == pytest.approx(fit.objective, abs=1e-8)
    other = fit.refit(fit.simulate(1, seed=2)[0])
    assert other.objective != pytest.approx(fit.objective, abs=1.0)
    assert other.formula == fit.formula and other.reml
