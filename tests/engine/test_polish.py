"""The certificate of an optimum (lmmdx.engine.polish.certify): Newton on a face, snap, KKT on the boundary.

Tolerances follow from the certificate: a certified point's criterion is within
``slack = max(τ, NOISE·|criterion|)`` of the optimum of its face (τ bounds twice the decrease
a Newton step would still achieve; NOISE is the criterion's rounding), and two certified
points of the same optimum agree in θ to ``sqrt(2 τ / min_curvature)`` per element.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import load

from lmmdx.boundary import BOUNDARY_TOLERANCE
from lmmdx.design import build_design
from lmmdx.engine.gradient import value_and_gradient
from lmmdx.engine.polish import DECREMENT_TOLERANCE, NOISE, Certificate, certify, decrement_tolerance
from lmmdx.formula import parse_formula
from lmmdx.model import Model

SEED = "y ~ x + (x | group)"
SLEEP = "Reaction ~ Days + (Days | Subject)"
#: Seed design, x ~ U(0, 10) (bench/optimum_check.py, data set 619): the REML optimum has the
#: slope's θ diagonal at 0.0329, where the criterion is flat; BOBYQA stopped at 0.0049, where
#: it still curves down (the criterion is even in that element), 1.4e-3 above the optimum.
FLAT = "optimum/seed_design_619.csv"
#: The REML criterion there from Nelder-Mead and COBYLA (nlopt, five starts, tolerances 1e-13).
FLAT_OPTIMUM = 469.7749181439687
FLAT_THETA = np.array([1.14038703, 0.01369787, 0.03287611])
#: Where BOBYQA (lmmdx's optimiser before the certificate) stopped on those data (internal θ).
FLAT_STOP = np.array([1.14046854, 0.01346007, 0.00490472])


def model(formula: str, data: str) -> Model:
    return Model.from_design(build_design(parse_formula(formula), load(data)))


@pytest.fixture(scope="module")
def flat() -> Model:
    return model(SEED, FLAT)


@pytest.fixture(scope="module")
def sleep() -> Model:
    return model(SLEEP, "sleepstudy.csv")


def slack(cert: Certificate, value: float) -> float:
    return max(cert.tolerance, NOISE * abs(value))


def theta_tolerance(cert: Certificate) -> float:
    return float(np.sqrt(2.0 * cert.tolerance / cert.min_curvature))


def test_tolerance_is_stated_and_scale_free():
    assert DECREMENT_TOLERANCE == 1e-10
    assert decrement_tolerance(500.0) == DECREMENT_TOLERANCE
    assert decrement_tolerance(-500.0) == DECREMENT_TOLERANCE
    # only a criterion too large for 1e-10 to be resolved raises it
    assert decrement_tolerance(1e9) == pytest.approx(1e9 * NOISE / 100)


def test_newton_reaches_the_optimum_from_anywhere_near_it(sleep):
    dev = sleep.deviance
    ends = []
    for start in ([1.0, 0.0, 1.0], [0.8, 0.1, 0.3], [1.2, -0.1, 0.1]):
        theta, value, cert = certify(dev, np.array(start), True, BOUNDARY_TOLERANCE)
        assert cert.holds and cert.note == ""
        assert cert.decrement <= cert.tolerance
        assert cert.held == () and cert.min_curvature > 0
        assert value == pytest.approx(dev(theta, True), abs=0)
        ends.append((theta, value, cert))
    theta0, value0, _cert0 = ends[0]
    for theta, value, cert in ends[1:]:
        assert abs(value - value0) <= slack(cert, value)
        np.testing.assert_allclose(theta, theta0, rtol=0, atol=theta_tolerance(cert))
    # lme4's REML optimum of sleepstudy, mapped to the user's θ
    np.testing.assert_allclose(sleep.theta_to_user(theta0), [0.966732790336086, 0.0151690577590721,
                                                             0.230909598789062], rtol=1e-5)


def test_a_flat_direction_near_the_boundary_is_followed_to_the_optimum(flat):
    """At BOBYQA's end point the Hessian is indefinite: a plain Newton step would go to 0."""
    dev = flat.deviance
    _, grad = value_and_gradient(dev, FLAT_STOP, True)
    assert grad[2] < -0.01  # the criterion still falls into the interior
    theta, value, cert = certify(dev, FLAT_STOP, True, BOUNDARY_TOLERANCE)
    assert cert.holds and cert.held == () and cert.snapped == ()
    assert flat.objective(theta, True) <= FLAT_OPTIMUM + slack(cert, value)
    np.testing.assert_allclose(theta, FLAT_THETA, atol=1e-5)


def test_an_even_held_element_whose_optimum_is_inside_is_released(flat):
    """θ's last diagonal element held at 0: the first derivative is 0 by symmetry, the criterion
    curves down, and the KKT probe releases the element."""
    start = FLAT_THETA.copy()
    start[2] = 0.0
    theta, value, cert = certify(flat.deviance, start, True, BOUNDARY_TOLERANCE)
    assert cert.released == (2,) and cert.held == ()
    assert cert.holds
    assert flat.objective(theta, True) <= FLAT_OPTIMUM + slack(cert, value)


def test_a_held_element_whose_derivative_points_inwards_is_released(sleep):
    """The intercept's diagonal held at 0 with the slope correlated to it: not even, and the
    one-sided derivative into the interior is negative."""
    theta, _value, cert = certify(sleep.deviance, np.array([0.0, 0.2, 1.0]), True, BOUNDARY_TOLERANCE)
    assert cert.released[0] == 0 and cert.holds and cert.held == ()
    reference, _, _ = certify(sleep.deviance, np.array([1.0, 0.0, 1.0]), True, BOUNDARY_TOLERANCE)
    np.testing.assert_allclose(theta, reference, atol=theta_tolerance(cert))


def test_snap_puts_an_element_within_the_tolerance_of_zero_on_the_boundary():
    seed = model(SEED, "seed_example.csv")
    dev = seed.deviance
    optimum, value, cert = certify(dev, seed.deviance.layout.start(), True, BOUNDARY_TOLERANCE)
    assert cert.holds and cert.held == (2,) and optimum[2] == 0.0
    near = optimum.copy()
    near[2] = 0.5 * BOUNDARY_TOLERANCE
    theta, snapped_value, snapped = certify(dev, near, True, BOUNDARY_TOLERANCE)
    assert snapped.snapped == (2,) and snapped.held == (2,) and theta[2] == 0.0
    assert snapped.holds and snapped_value <= value + slack(snapped, value)
    # KKT held: the element is even at 0 and the criterion rises into the interior
    assert snapped.released == ()
    assert snapped.projected_gradient <= 1e-6


def test_snap_is_refused_when_the_boundary_is_worse(flat):
    """With a snap distance beyond the interior optimum (0.0329), setting it to 0 costs more than
    the noise: the element stays where it is."""
    theta, _value, cert = certify(flat.deviance, FLAT_THETA, True, 0.05)
    assert cert.snapped == () and cert.held == () and theta[2] == pytest.approx(FLAT_THETA[2], abs=1e-5)
    assert cert.holds


def test_an_exhausted_budget_leaves_the_optimum_uncertified(flat):
    _theta, value, cert = certify(flat.deviance, FLAT_STOP, True, BOUNDARY_TOLERANCE, budget=2)
    assert not cert.holds and "budget" in cert.note and cert.evaluations == 2
    assert value <= flat.deviance(FLAT_STOP, True)  # never worse than the start
    _, _, none = certify(flat.deviance, FLAT_STOP, True, BOUNDARY_TOLERANCE, budget=0)
    assert not none.holds and none.evaluations == 0


def test_the_certificate_reports_what_it_did(flat):
    theta, _, cert = certify(flat.deviance, FLAT_STOP, True, BOUNDARY_TOLERANCE)
    assert cert.steps >= 1 and cert.hessians >= 1 and cert.evaluations >= cert.steps + cert.hessians
    assert cert.projected_gradient < 1e-4
    # the Newton decrement recomputed independently at the end point agrees with the certificate's
    _, grad = value_and_gradient(flat.deviance, theta, True)
    h = np.empty((3, 3))
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1e-5
        h[:, j] = (value_and_gradient(flat.deviance, theta + step, True)[1] - grad) / 1e-5
    h = 0.5 * (h + h.T)
    assert float(grad @ np.linalg.solve(h, grad)) <= cert.tolerance
    assert np.linalg.eigvalsh(h)[0] == pytest.approx(cert.min_curvature, rel=1e-3)
