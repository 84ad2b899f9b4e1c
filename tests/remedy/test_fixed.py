"""Fixed-effects alternatives: group-as-fixed OLS and OLS with CR2 standard errors and Satterthwaite df."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import REFERENCE, load

import lmmdx
from lmmdx.remedy.fixed import cluster_robust, cr2, fixed_effects
from lmmdx.remedy.structure import structure_of


def _fit(data: str, formula: str) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lmmdx.fit(formula, load(data))


def test_cr2_of_a_mean_is_the_variance_of_cluster_means_with_j_minus_1_df():
    rng = np.random.default_rng(3)
    clusters, size = 7, 4
    codes = np.repeat(np.arange(clusters), size)
    y = rng.normal(size=codes.size) + rng.normal(size=clusters)[codes]
    x = np.ones((codes.size, 1))
    vcov, df = cr2(x, y - y.mean(), np.array([[1.0 / codes.size]]), codes)
    means = np.array([y[codes == j].mean() for j in range(clusters)])
    assert vcov[0, 0] == pytest.approx(np.sum((means - means.mean()) ** 2) / (clusters * (clusters - 1)))
    assert df[0] == pytest.approx(clusters - 1)


def test_cr2_with_one_row_per_cluster_is_hc2():
    rng = np.random.default_rng(4)
    n = 30
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = x @ [1.0, 2.0] + rng.normal(size=n) * (1 + np.abs(x[:, 1]))
    bread = np.linalg.inv(x.T @ x)
    e = y - x @ bread @ x.T @ y
    h = np.einsum("ij,jk,ik->i", x, bread, x)
    hc2 = bread @ (x.T * (e**2 / (1 - h))) @ x @ bread
    vcov, _ = cr2(x, e, bread, np.arange(n))
    assert vcov == pytest.approx(hc2, rel=1e-10)


def test_cluster_robust_on_sleepstudy_matches_the_balanced_mixed_model():
    # Balanced design, unstructured random intercept and slope: CR2 and the REML Satterthwaite
    # inference coincide (Bell & McCaffrey 2002), lme4's SE of Days and lmerTest's 17 df.
    fit = _fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)")
    cr = cluster_robust(fit.model.design, structure_of(fit.formula))
    ref = REFERENCE["sleepstudy_slope_reml"]
    se = np.sqrt(np.diag(cr.vcov))
    assert cr.formula == "Reaction ~ Days" and cr.cluster is not None and cr.cluster.nlevels == 18
    assert se[1] == pytest.approx(ref["beta_se"]["Days"], rel=1e-4)
    assert cr.df == pytest.approx([17.0, 17.0], rel=1e-6)


def test_fixed_effects_slope_is_the_average_within_group_slope():
    fit = _fit("seed_example.csv", "y ~ x + (x | group)")
    fe = fixed_effects(fit.model.design, structure_of(fit.formula))
    data = load("seed_example.csv")
    slopes = [np.polyfit(g.x, g.y, 1)[0] for _, g in data.groupby("group")]
    assert fe.names == ("(Intercept)", "x")
    assert fe.beta[1] == pytest.approx(np.mean(slopes), rel=1e-10)
    assert fe.df[1] == 160 - 16
    assert fe.formula == "y ~ x + C(group, contr.sum) + x:C(group, contr.sum)"


def test_a_between_group_covariate_is_not_estimable_with_group_fixed_effects():
    data = load("seed_example.csv")
    data["w"] = data["group"] % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + w + (1 | group)", data)
    fe = fixed_effects(fit.model.design, structure_of(fit.formula))
    assert fe.dropped == ("w",) and "w" not in fe.names and "x" in fe.names


def test_fixed_effects_criteria_count_every_coefficient():
    fit = _fit("seed_example.csv", "y ~ x + (x | group)")
    fe = fixed_effects(fit.model.design, structure_of(fit.formula))
    # 16 coefficients (intercept, slope, 7 + 7 sum-coded group and slope contrasts) and σ
    assert fe.aic == pytest.approx(-2 * fe.loglik + 2 * 17)
    assert fe.bic == pytest.approx(-2 * fe.loglik + 17 * np.log(160))
