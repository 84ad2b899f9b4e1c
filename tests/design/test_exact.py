"""A response the fixed part reproduces exactly (y = 2x + 1): a one-line refusal for a fit, a
finding for the diagnosis, never a LinAlgError (issue 12)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import run_cli as run

import lmmdx
from lmmdx.design import build_design
from lmmdx.design.exact import EXACT_FIT_SHARE, unexplained_share
from lmmdx.diagnose import diagnose_design
from lmmdx.formula import parse_formula


def exact(noise: float = 0.0, group_effect: bool = False, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 60
    x = rng.normal(size=n)
    g = np.repeat(list("abcdef"), 10)
    y = 2 * x + 1 + noise * rng.normal(size=n)
    if group_effect:
        y = y + np.repeat(rng.normal(size=6), 10)
    return pd.DataFrame({"y": y, "x": x, "g": g})


@pytest.mark.parametrize("formula", ["y ~ x + (1 | g)", "y ~ x + (x | g)", "y ~ x + (x || g)"])
def test_fit_refuses_in_one_line(formula):
    with pytest.raises(lmmdx.DataError, match=r"the fixed part reproduces the response 'y' exactly \(to 15 "
                                              r"significant digits\): nothing is left .* check that the response"):
        lmmdx.fit(formula, exact())


def test_share_is_scale_free_and_exact_to_rounding():
    data = exact()
    X = np.column_stack([np.ones(60), data["x"]])
    assert unexplained_share(X, data["y"].to_numpy(), True) < 1e-28
    assert unexplained_share(X * 1e6, data["y"].to_numpy() * 1e-6, True) < 1e-28
    noisy = exact(noise=1e-3)["y"].to_numpy()
    assert unexplained_share(X, noisy, True) > 1e3 * EXACT_FIT_SHARE


def test_a_large_constant_is_not_an_exact_fit():
    """y = 1e8 + noise varies about its mean: the share is taken about the mean when X has an intercept."""
    data = exact(noise=1.0).assign(y=lambda d: d["y"] + 1e8)
    design = build_design(parse_formula("y ~ x + (1 | g)"), data)
    assert unexplained_share(design.X, design.y, True) > 0.01


def test_diagnosis_reports_the_saturated_case():
    design = build_design(parse_formula("y ~ x + (x | g)"), exact(), check_identifiable=False)
    diagnosis = diagnose_design(design)
    assert diagnosis.status == "fit_failed"
    first = diagnosis.findings[0]
    assert (first.code, first.severity, first.parameters) == ("response_fitted_exactly", "error", ("residual",))
    assert first.evidence["fixed_columns"] == ["x"] and first.evidence["unexplained_share"] < 1e-28
    assert first.remedies[0].action == "drop_fixed"
    assert "reproduces the response 'y' exactly" in diagnosis.verdict


@pytest.mark.parametrize("command", ["fit", "diagnose", "remedy", "check-invariance"])
def test_cli_gives_one_line_or_a_diagnosis(capsys, tmp_path, command):
    path = tmp_path / "exactlin.csv"
    exact().to_csv(path, index=False)
    code, out, err = run(capsys, command, str(path), "y ~ x + (x | g)", "--json")
    if command == "diagnose":
        assert code == 0 and err == ""
        assert json.loads(out)["findings"][0]["code"] == "response_fitted_exactly"
    else:
        assert code == 2 and out == ""
        assert err.startswith("lmmdx: error: the fixed part reproduces the response 'y' exactly")
        assert len(err.strip().splitlines()) == 1


@pytest.mark.filterwarnings("ignore::lmmdx.LmmdxWarning")
@pytest.mark.parametrize("noise", [1e-3, 1e-5, 1e-6])
@pytest.mark.parametrize("formula", ["y ~ x + (1 | g)", "y ~ x + (x | g)"])
def test_nearly_exact_responses_fit_and_every_method_works(noise, formula):
    """Just above the threshold the fit exists; summary, to_dict, confint and anova all work."""
    fit = lmmdx.fit(formula, exact(noise=noise))
    assert fit.sigma == pytest.approx(noise, rel=0.5)
    assert "Fixed effects" in fit.summary()
    json.dumps(fit.to_dict(), allow_nan=False)
    assert len(fit.confint("wald").intervals) > 0
    assert len(fit.anova().rows) == 1


def test_exact_in_the_fixed_and_random_parts_is_a_collapsed_residual():
    """y = 2x + 1 + b_g exactly: random effects absorb what is left, σ collapses: a finding."""
    fit = lmmdx.fit("y ~ x + (1 | g)", exact(group_effect=True))
    codes = [f.code for f in fit.diagnose(optimizers=()).findings]
    assert "residual_variance_collapsed" in codes
