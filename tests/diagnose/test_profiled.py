"""Derivatives of the profiled criterion at the optimum (the convergence check's numbers)."""

from __future__ import annotations

import numpy as np
from diagnose_support import fitted

from lmmdx.diagnose.profiled import profiled_derivatives
from lmmdx.engine import Tolerances
from lmmdx.fitting import fit_model


def test_at_the_optimum_the_newton_decrement_is_negligible():
    der = profiled_derivatives(fitted("sleep"))
    assert der.free.all()
    assert der.newton_decrement is not None and der.newton_decrement < 1e-4
    assert der.min_eigenvalue > 0.1


def test_bound_parameters_are_excluded_and_checked_one_sided():
    der = profiled_derivatives(fitted("seed"))
    assert der.free.tolist() == [True, True, False]
    assert der.bound_slopes.shape == (1,) and der.bound_slopes[0] >= 0.0
    assert der.newton_decrement is not None and der.newton_decrement < 1e-3


def test_a_stopped_optimisation_has_a_large_decrement():
    fit = fitted("sleep")
    early = fit_model(fit.model, True, tolerances=Tolerances(maxeval=12))
    der = profiled_derivatives(early)
    assert der.newton_decrement > 0.1
    # the decrement predicts the remaining decrease of the criterion (quadratic model)
    predicted = der.newton_decrement**2 / 2
    actual = early.objective - fit.objective
    assert 0.3 * actual < predicted < 3 * actual
    assert np.isfinite(der.max_abs_gradient)
