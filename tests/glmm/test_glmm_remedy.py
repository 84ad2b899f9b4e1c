"""GLMM remedies: simplification candidates, the bglmer-penalised fit, the GLM alternatives, the CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from support import DATA, run_cli

import lmmdx
from lmmdx.remedy.glmm import cluster_robust_glm, fixed_effects_glm, penalized_glmm

GLMM = DATA / "glmm"


@pytest.fixture(scope="module")
def seed_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit("y ~ x + (x | group)", pd.read_csv(GLMM / "seed_binomial.csv"), family="binomial")


@pytest.fixture(scope="module")
def seed_report(seed_fit):
    return seed_fit.remedies()


def test_candidates_fitted_and_compared(seed_report):
    by_name = {c.name: c for c in seed_report.candidates}
    assert {"maximal", "zero_correlation", "pca_reduced", "intercept_only", "penalized", "fixed_effects",
            "cluster_robust"} <= set(by_name)
    assert by_name["maximal"].singular and by_name["maximal"].verdict == "over_parameterised"
    assert by_name["intercept_only"].formula == "y ~ x + (1 | group)" and not by_name["intercept_only"].singular
    assert by_name["penalized"].converged and not by_name["penalized"].singular
    assert by_name["cluster_robust"].effect("x").df == 7.0  # 8 clusters
    # the slope of x has a clear variance (θ ≈ 0.67 without correlations) but its fits collapse the
    # intercept's, so the simplification leaves it out; the penalised fit keeps it (issue 10, item 6)
    assert by_name["maximal_feasible"].formula == "y ~ x + (1 | group)"
    assert seed_report.selected == "penalized"
    assert any("leave out group: x" in r for r in seed_report.recommendation)
    assert seed_report.sensitivity.verdict == "robust"
    # the GLMM candidates are GLMMs: same family, z tests
    assert by_name["intercept_only"].fit.family == "binomial"
    assert not np.isfinite(by_name["intercept_only"].effect("x").df)


def test_penalised_fit_keeps_variances_off_the_boundary(seed_fit):
    pen = penalized_glmm(seed_fit)
    assert pen.agree and not pen.fit.singular
    assert all(c.sd > 0.01 for c in pen.fit.random_effects)
    assert pen.fit.objective > seed_fit.objective  # the prior costs likelihood
    assert not pen.fixef_prior


def test_penalised_fit_with_separation_gives_finite_estimates():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(10), 12)
    x = rng.normal(size=g.size)
    data = pd.DataFrame({"g": [f"g{i}" for i in g], "x": x, "y": (x > 0).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        fit = lmmdx.fit("y ~ x + (1 | g)", data, family="binomial")
    assert abs(fit.beta[1]) > 50
    pen = penalized_glmm(fit, fixef_prior=True)
    assert 1 < pen.fit.beta[1] < 15 and np.all(np.isfinite(pen.fit.std_errors))


def test_glm_alternatives(seed_fit):
    fe = fixed_effects_glm(seed_fit)
    assert fe.converged and len(fe.names) == 2 + 7 + 7  # β, group and x:group (sum-coded)
    cr = cluster_robust_glm(seed_fit)
    assert cr.cluster == "group" and cr.nclusters == 8
    se = np.sqrt(np.diag(cr.vcov))
    assert np.all(se > 0) and cr.names == ("(Intercept)", "x")


def test_cli_remedy_family(capsys, tmp_path):
    path = tmp_path / "seed.csv"
    pd.read_csv(GLMM / "seed_binomial.csv").to_csv(path, index=False)
    code, out, err = run_cli(capsys, "remedy", str(path), "y ~ x + (x | group)", "--family", "binomial", "--json")
    assert code == 0, err
    payload = json.loads(out)
    names = [c["name"] for c in payload["candidates"]]
    assert "penalized" in names and "cluster_robust" in names
    assert payload["selected"] == "penalized"
