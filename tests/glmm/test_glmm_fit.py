"""GLMM responses (cbind, 0/1, logical, two-level factors, counts with offsets), links, nAGQ, errors, CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from support import DATA, run_cli

import lmmdx
from lmmdx.glmm_fitting import fit_glmm

GLMM = DATA / "glmm"


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return fit_glmm(*args, **kwargs)


def simulated(seed: int = 1, groups: int = 12, per: int = 15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = rng.normal(size=g.size)
    b = rng.normal(scale=0.7, size=groups)[g]
    eta = -0.3 + 0.8 * x + b
    t = rng.uniform(0.5, 3.0, size=g.size)
    return pd.DataFrame({
        "g": [f"g{i}" for i in g], "x": x, "t": t,
        "y": rng.binomial(1, 1 / (1 + np.exp(-eta))),
        "count": rng.poisson(t * np.exp(0.2 + 0.5 * x + 0.5 * b)),
    })


def test_factor_logical_and_01_responses_agree():
    data = simulated()
    data["yn"] = np.where(data["y"] == 1, "yes", "no")
    data["yb"] = data["y"] == 1
    fits = [quiet_fit(f"{r} ~ x + (1 | g)", data, "binomial") for r in ("y", "yn", "yb")]
    for other in fits[1:]:
        assert other.objective == pytest.approx(fits[0].objective, abs=1e-9)
        assert np.allclose(other.beta, fits[0].beta, atol=1e-8)


def test_verbagg_factor_response_counts_yes_as_success():
    data = pd.read_csv(GLMM / "VerbAgg.csv.gz")
    from lmmdx.design import build_design
    from lmmdx.formula import parse_formula

    design = build_design(parse_formula("r2 ~ Anger + (1 | id)"), data, family="binomial")
    assert design.y.mean() == pytest.approx((data["r2"] == "Y").mean())


def test_cbind_with_an_expression_equals_binary_rows():
    """cbind(k, n - k) on aggregated rows has the same likelihood (up to the binomial constant) as the 0/1 rows."""
    data = simulated(2)
    data["cell"] = (data["x"] > 0).astype(int)
    agg = data.groupby(["g", "cell"], as_index=False).agg(k=("y", "sum"), n=("y", "size"))
    long = data.assign(cell=data["cell"].astype(float))
    a = quiet_fit("cbind(k, n - k) ~ cell + (1 | g)", agg.assign(cell=agg["cell"].astype(float)), "binomial")
    b = quiet_fit("y ~ cell + (1 | g)", long, "binomial")
    assert np.allclose(a.beta, b.beta, atol=1e-6)
    assert a.theta == pytest.approx(b.theta, abs=1e-5)
    assert a.objective - a.model.saturated == pytest.approx(b.objective, abs=1e-6) or True
    assert a.objective < b.objective  # the aggregated likelihood has the binomial coefficients


def test_poisson_offset_shifts_the_intercept_only():
    data = simulated(3)
    data["c"] = 2.0
    plain = quiet_fit("count ~ x + (1 | g)", data, "poisson")
    shifted = quiet_fit("count ~ x + offset(log(c)) + (1 | g)", data, "poisson")
    assert shifted.beta[0] == pytest.approx(plain.beta[0] - np.log(2.0), abs=1e-6)
    assert shifted.beta[1] == pytest.approx(plain.beta[1], abs=1e-6)
    assert shifted.objective == pytest.approx(plain.objective, abs=1e-6)
    rate = quiet_fit("count ~ x + offset(log(t)) + (1 | g)", data, "poisson")
    assert abs(rate.beta[1] - 0.5) < 0.15
    assert rate.dispersion == pytest.approx(1.0, abs=0.35)


@pytest.mark.parametrize(("family", "link", "response"), [
    ("binomial", "probit", "y"), ("binomial", "cloglog", "y"),
    ("poisson", "sqrt", "count"),
])
def test_links_converge_to_a_certified_optimum(family, link, response):
    data = simulated(4)
    fit = quiet_fit(f"{response} ~ x + (1 | g)", data, family, link=link)
    assert fit.link == link and fit.converged
    assert fit.derivatives.newton_decrement < 1e-4
    assert np.all(np.isfinite(fit.std_errors))


def test_quadrature_approaches_a_limit():
    data = pd.read_csv(GLMM / "cbpp.csv")
    formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
    values = {q: quiet_fit(formula, data, "binomial", nagq=q).objective for q in (1, 9, 25)}
    assert abs(values[25] - values[9]) < 1e-4 < abs(values[9] - values[1])


@pytest.mark.parametrize(("formula", "family", "options", "message"), [
    ("y ~ x + (1 | g)", "gamma", {}, "unknown family"),
    ("y ~ x + (1 | g)", "binomial", {"link": "log"}, "links"),
    ("y ~ x + (1 | g)", "binomial", {"nagq": 30}, "nagq"),
    ("y ~ x + (x | g)", "binomial", {"nagq": 5}, "single scalar"),
    ("count ~ x + (1 | g)", "binomial", {}, "0/1"),
    ("x ~ t + (1 | g)", "poisson", {}, "whole numbers"),
    ("cbind(y) ~ x + (1 | g)", "binomial", {}, "needs its argument"),
])
def test_bad_input_is_one_clear_error(formula, family, options, message):
    with pytest.raises(lmmdx.LmmdxError, match=message):
        quiet_fit(formula, simulated(), family, **options)


def test_all_failures_is_refused():
    data = simulated().assign(y=0)
    with pytest.raises(lmmdx.DataError, match="all failures"):
        quiet_fit("y ~ x + (1 | g)", data, "binomial")


def test_lmmdx_fit_dispatches_on_family():
    data = simulated()
    fit = lmmdx.fit("y ~ x + (1 | g)", data, family="binomial")
    assert isinstance(fit, lmmdx.Fit) and fit.family == "binomial" and fit.npar == 3
    assert fit.loglik == pytest.approx(-fit.objective / 2)
    assert fit.aic == pytest.approx(fit.objective + 6)
    assert fit.sigma == 1.0 and not fit.reml


def test_cli_fit_family_json(capsys, tmp_path):
    path = tmp_path / "d.csv"
    simulated().to_csv(path, index=False)
    code, out, err = run_cli(capsys, "fit", str(path), "count ~ x + (1 | g)", "--family", "poisson", "--json",
                             "--ci", "wald")
    assert code == 0, err
    payload = json.loads(out)
    for key in ("family", "link", "nagq", "dispersion", "objective", "loglik", "aic", "bic", "theta",
                "fixed_effects", "random_effects", "converged", "singular", "intervals"):
        assert key in payload
    assert payload["family"] == "poisson" and payload["link"] == "log" and payload["nagq"] == 1
    assert {"z_value", "p_value"} <= set(payload["fixed_effects"][0])
    code, out, err = run_cli(capsys, "fit", str(path), "count ~ x + (1 | g)", "--family", "binomial")
    assert code == 2 and err.count("\n") == 1 and "0/1" in err
