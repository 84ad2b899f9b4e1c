"""Each registered check on cases built to trigger it (and not otherwise)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from diagnose_support import diagnosed, diagnosed_frame, fitted

from lmmdx.design import build_design
from lmmdx.diagnose import diagnose, diagnose_design
from lmmdx.diagnose.checks import CHECKS, ORDER, register
from lmmdx.engine import Tolerances
from lmmdx.fitting import fit_model
from lmmdx.formula import parse_formula


def test_registry_holds_one_check_per_module():
    assert set(CHECKS) == {"saturation", "support", "boundary", "redundancy", "identifiability", "convergence",
                           "optimizers", "fixed"}
    assert sorted(ORDER.values()) == list(range(len(CHECKS)))
    with pytest.raises(ValueError, match="already registered"):
        register("boundary", 99)(lambda ctx: [])


def test_convergence_and_optimizer_checks_catch_a_stopped_fit():
    fit = fitted("sleep")
    early = fit_model(fit.model, True, tolerances=Tolerances(maxeval=12))
    d = diagnose(early)
    assert d.status == "not_converged"
    codes = d.codes()
    assert {"optimizer_not_converged", "gradient_not_small", "optimum_not_reached"} <= set(codes)
    better = d.finding("optimum_not_reached")
    assert better.evidence["improvement"] == pytest.approx(early.objective - fit.objective, abs=1e-5)


def test_flat_ridge_when_the_criterion_is_flat():
    finding = diagnosed_frame("one_per_level").finding("flat_ridge")
    assert finding is not None and set(finding.parameters) >= {"id: (Intercept)", "residual"}


def test_unsupported_slope_in_a_non_singular_fit():
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(12), 10)
    x = rng.normal(size=g.size)
    y = 1 + x + rng.normal(size=12)[g] + 0.02 * rng.normal(size=12)[g] * x + rng.normal(size=g.size)
    frame = pd.DataFrame({"y": y, "x": x, "g": g})
    d = diagnose_design(build_design(parse_formula("y ~ x + (x | g)"), frame), optimizers=())
    codes = set(d.codes())
    assert "singular_fit" in codes or "unsupported_slope" in codes
    finding = d.finding("unsupported_slope") or d.finding("singular_fit")
    assert "g: x" in finding.parameters
    assert any(r.formula == "y ~ x + (1 | g)" for r in finding.remedies)


def test_weak_scalar_variance_is_only_information():
    finding = diagnosed("pastes").finding("weak_variance")
    assert finding is not None and finding.severity == "info" and finding.parameters == ("batch: (Intercept)",)
    assert 0.05 < finding.evidence["p_value"] < 0.5


def test_fixed_effect_checks():
    rng = np.random.default_rng(3)
    n = 60
    x = rng.normal(size=n)
    frame = pd.DataFrame({"y": rng.normal(size=n), "x": x, "x2": 2 * x, "big": 1e5 * rng.normal(size=n),
                          "g": np.repeat(np.arange(10), 6)})
    d = diagnose_design(build_design(parse_formula("y ~ x + x2 + big + (1 | g)"), frame), optimizers=())
    aliased = d.finding("aliased_fixed_effects")
    assert aliased.severity == "warning" and aliased.parameters == ("x2",)
    assert aliased.remedies[0].formula == "y ~ x + big + (1 | g)"
    scales = d.finding("fixed_effect_scales")
    assert scales.severity == "info" and scales.evidence["ratio"] > 1e4
    cake = diagnosed("cake").finding("collinear_fixed_effects")
    assert cake.severity == "info" and "recipeB:temperature" in cake.parameters


def test_too_few_levels_is_an_error():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"y": rng.normal(size=40), "x": rng.normal(size=40), "g": np.repeat(["a", "b"], 20)})
    d = diagnose_design(build_design(parse_formula("y ~ x + (x | g)"), frame, check_identifiable=False),
                        optimizers=())
    finding = d.finding("too_few_levels")
    assert finding is not None and finding.severity == "error"
    assert finding.evidence["levels"] == 2
    assert any(r.action == "fixed_factor" and r.formula == "y ~ x + g + x:g" for r in finding.remedies)


def test_uncentred_slope_is_reported_as_information():
    rng = np.random.default_rng(21)
    g = np.repeat(np.arange(30), 8)
    t = rng.uniform(100, 110, size=g.size)
    b0, b1 = rng.normal(size=30), 0.3 * rng.normal(size=30)
    y = b0[g] + b1[g] * (t - 105) + rng.normal(size=g.size)
    frame = pd.DataFrame({"y": y, "t": t, "g": g})
    d = diagnose_design(build_design(parse_formula("y ~ t + (t | g)"), frame), optimizers=())
    finding = d.finding("uncentred_slope")
    assert finding is not None and finding.severity == "info"
    assert abs(finding.evidence["corr"]) > 0.9 and abs(finding.evidence["corr_centred"]) < 0.6
    assert finding.remedies[0].formula.startswith("y ~ I(t - 10")
