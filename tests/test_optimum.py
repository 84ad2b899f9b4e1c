"""The fit returns the optimum, not only the diagnosis: regressions and the optimiser chain.

The data sets are seed-design simulations (8 groups × 20, x ~ U(0, 10), random-slope SD 0.05;
``bench/optimum_check.py``, data sets 619, 717, 652, 212 and 87 of its seed, values rounded to
6 decimals) on which lmmdx's fit before the certificate stopped above the REML optimum, by
1.4e-3 down to 5e-5, and said it had converged. Each optimum was found independently by nlopt's
Nelder-Mead and COBYLA from five starts with tolerances of 1e-13; a certified fit may exceed it
by the certificate's slack only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import load

import lmmdx
from lmmdx import fitting
from lmmdx.design import build_design
from lmmdx.engine import Tolerances
from lmmdx.engine.optimize import OptTrace, chain
from lmmdx.engine.polish import NOISE
from lmmdx.fitting import fit_model
from lmmdx.formula import parse_formula
from lmmdx.model import Model

FORMULA = "y ~ x + (x | group)"
#: data set → (REML criterion of the independent optimisers, where lmmdx stopped before, internal θ).
REGRESSIONS = {
    619: (469.7749181439687, [1.14046854, 0.01346007, 0.00490472]),
    717: (477.59586378774827, [1.33511945, 0.10722461, 0.00192615]),
    652: (479.62997230060296, [0.68589588, 0.00746405, 0.00146505]),
    212: (478.1366280646539, [0.96287855, 0.05340310, 0.00027490]),
    87: (486.73016769757703, [1.04164055, 0.15763206, 0.03540087]),
}


def fit(data: str, **options: object) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(FORMULA, load(data), **options)  # type: ignore[arg-type]


def slack(result: lmmdx.Fit) -> float:
    assert result.certificate is not None
    return max(result.certificate.tolerance, NOISE * abs(result.objective))


@pytest.mark.parametrize("index", sorted(REGRESSIONS))
def test_fit_reaches_the_optimum_of_independent_optimisers(index):
    optimum, stopped = REGRESSIONS[index]
    result = fit(f"optimum/seed_design_{index}.csv")
    assert result.converged and result.certificate is not None and result.certificate.holds
    assert result.objective <= optimum + slack(result)
    # where the fit used to stop is measurably worse: the test can fail
    assert result.model.objective(np.array(stopped), True) > optimum + 1e-5
    assert not result.singular and result.correlations[0].corr < 1.0


@pytest.mark.parametrize("optimizer", ["bobyqa", "nelder_mead", "cobyla", "sbplx"])
def test_every_optimiser_ends_at_the_same_certified_optimum(optimizer):
    optimum, _ = REGRESSIONS[619]
    result = fit("optimum/seed_design_619.csv", optimizer=optimizer)
    assert result.converged and result.objective <= optimum + slack(result)
    assert result.optimizer.algorithm.endswith("+newton")


def test_a_singular_fit_restarts_from_the_other_face_and_keeps_the_certified_optimum():
    result = fit("seed_example.csv")
    cert = result.certificate
    assert cert is not None and cert.holds and cert.restarts == ("other face",)
    assert cert.held == (2,) and result.theta_internal[2] == 0.0
    assert result.singular and result.correlations[0].corr == 1.0


def _sleep() -> Model:
    return Model.from_design(build_design(parse_formula("Reaction ~ Days + (Days | Subject)"),
                                          load("sleepstudy.csv")))


def test_an_uncertified_optimum_restarts_from_other_starts(monkeypatch):
    """The first certificate is made to fail: the fit restarts from 0.1 × lme4's start and keeps
    the certified optimum found there."""
    real = fitting.certify
    calls: list[np.ndarray] = []

    def failing_once(dev, theta, reml, snap, budget=None):  # type: ignore[no-untyped-def]
        calls.append(np.array(theta))
        out = real(dev, theta, reml, snap, budget)
        if len(calls) == 1:
            return out[0], out[1], fitting.replace(out[2], holds=False, note="made to fail")
        return out

    monkeypatch.setattr(fitting, "certify", failing_once)
    result = fit_model(_sleep())
    assert len(calls) == 2
    assert result.converged and result.certificate is not None
    assert result.certificate.restarts == ("small start",)


def test_the_evaluation_budget_covers_optimiser_certificate_and_restarts():
    result = fit_model(_sleep(), tolerances=Tolerances(maxeval=5))
    assert not result.converged and result.optimizer.nevals <= 5
    assert result.certificate is not None and "budget" in result.certificate.note
    assert any("did not converge" in w for w in result.warnings)


def test_chain_keeps_the_lower_optimum_and_every_evaluation():
    def trace(x: float, fmin: float, n: int, name: str) -> OptTrace:
        evals = np.column_stack([np.full(n, x), np.linspace(fmin + 1, fmin, n)])
        return OptTrace(name, np.array([1.0]), np.array([x]), fmin, n, "FTOL_REACHED", True, evals)

    first, second = trace(0.5, 2.0, 3, "bobyqa"), trace(0.2, 1.0, 4, "bobyqa")
    both = chain(first, second)
    assert both.fmin == 1.0 and both.x.tolist() == [0.2] and both.nevals == 7
    assert both.evaluations.shape == (7, 2) and both.method is None
    assert chain(second, first).fmin == 1.0
    mixed = chain(first, trace(0.2, 1.0, 4, "cobyla"))
    assert mixed.algorithm == "bobyqa+cobyla" and mixed.optimizer == "bobyqa"
