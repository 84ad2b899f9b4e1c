"""Parametric bootstrap: seeded, independent of the number of workers, with progress."""

from __future__ import annotations

import numpy as np
import pytest
from support import reference_fit

import lmmdx
from lmmdx.inference.bootstrap import ParameterReplicate, bootstrap, run_replicates


def test_seeded_and_independent_of_workers():
    fit = reference_fit("dyestuff_reml")
    calls = []
    one = bootstrap(fit, nsim=60, seed=11, progress=lambda done, total: calls.append((done, total)))
    two = bootstrap(fit, nsim=60, seed=11, workers=2)
    np.testing.assert_array_equal(one.replicates, two.replicates)
    assert calls[-1] == (60, 60) and len(calls) == 3
    other = bootstrap(fit, nsim=60, seed=12)
    assert not np.array_equal(one.replicates, other.replicates)
    assert one.names == ("sd_(Intercept)|Batch", "sigma", "(Intercept)")
    assert one.failures == 0


def test_replicates_vary_around_the_estimates():
    fit = reference_fit("sleepstudy_slope_reml")
    result = bootstrap(fit, nsim=100, seed=3)
    centre = np.median(result.replicates, axis=0)
    spread = result.replicates.std(axis=0)
    estimates = result.estimates
    # the bootstrap SD of β̂ is close to the model's SE (within the noise of 100 samples)
    assert spread[-2:] == pytest.approx(fit.std_errors, rel=0.25)
    assert np.all(np.abs(centre - estimates)[3:] < 2 * spread[3:])


def test_percentile_intervals():
    fit = reference_fit("sleepstudy_slope_reml")
    result = fit.confint("bootstrap", nsim=100, seed=5)
    assert result.method == "bootstrap" and len(result.intervals) == 6
    for interval in result.intervals:
        assert interval.lower < interval.estimate < interval.upper
    boot = bootstrap(fit, nsim=100, seed=5)
    lo, hi = np.quantile(boot.replicates[:, 4], [0.025, 0.975])
    assert result["(Intercept)"].lower == pytest.approx(lo) and result["(Intercept)"].upper == pytest.approx(hi)


def test_singular_refits_are_counted():
    fit = reference_fit("seed_example_slope_reml")
    result = fit.confint("bootstrap", nsim=50, seed=1)
    assert any("singular" in note for note in result.notes)


def test_bad_nsim():
    with pytest.raises(lmmdx.LmmdxError, match="at least 1"):
        run_replicates(ParameterReplicate(reference_fit("dyestuff_reml")), 0)
