"""The split-plot model that lme4 fits although its random effects add up to the observations.

``y ~ a * b + (1 | id) + (1 | id:a) + (1 | id:b)`` with 10 subjects, a with 2 levels and b with 3,
one observation per cell: 10 + 20 + 30 = 60 random effects for 60 observations. lme4 checks each
term (each has fewer levels than observations) and fits it. On balanced data REML equals the
classical split-plot ANOVA estimates whenever they are positive (the REML equations are the
ANOVA equations), so the closed forms below are lme4's answer:

    σ²       = MS(id:a:b)
    σ²(id:a) = (MS(id:a) − MS(id:a:b)) / B
    σ²(id:b) = (MS(id:b) − MS(id:a:b)) / A
    σ²(id)   = (MS(id) − MS(id:a) − MS(id:b) + MS(id:a:b)) / (A B)

and the fixed effects are the ordinary least-squares ones (balanced: GLS = OLS).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import lmmdx

I_, A_, B_ = 10, 2, 3


def split_plot(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids, a, b = np.meshgrid(np.arange(I_), np.arange(A_), np.arange(B_), indexing="ij")
    ids, a, b = ids.ravel(), a.ravel(), b.ravel()
    u_id = rng.normal(scale=1.5, size=I_)
    u_ia = rng.normal(scale=0.8, size=(I_, A_))
    u_ib = rng.normal(scale=0.6, size=(I_, B_))
    y = (10 + 1.0 * a + np.array([0.0, 0.5, -0.3])[b] + 0.4 * a * (b == 2)
         + u_id[ids] + u_ia[ids, a] + u_ib[ids, b] + rng.normal(scale=0.5, size=ids.size))
    return pd.DataFrame({"y": y, "id": [f"s{i:02d}" for i in ids], "a": [f"a{j}" for j in a],
                         "b": [f"b{k}" for k in b]})


def anova_components(frame: pd.DataFrame) -> dict[str, float]:
    cube = frame.sort_values(["id", "a", "b"])["y"].to_numpy().reshape(I_, A_, B_)
    m = cube.mean()
    mi, ma, mb = cube.mean(axis=(1, 2)), cube.mean(axis=(0, 2)), cube.mean(axis=(0, 1))
    mia, mib, mab = cube.mean(axis=2), cube.mean(axis=1), cube.mean(axis=0)
    ms_id = A_ * B_ * np.sum((mi - m) ** 2) / (I_ - 1)
    ms_ia = B_ * np.sum((mia - mi[:, None] - ma[None, :] + m) ** 2) / ((I_ - 1) * (A_ - 1))
    ms_ib = A_ * np.sum((mib - mi[:, None] - mb[None, :] + m) ** 2) / ((I_ - 1) * (B_ - 1))
    resid = (cube - mia[:, :, None] - mib[:, None, :] - mab[None, :, :] + mi[:, None, None]
             + ma[None, :, None] + mb[None, None, :] - m)
    ms_e = np.sum(resid**2) / ((I_ - 1) * (A_ - 1) * (B_ - 1))
    return {"residual": ms_e, "id:a": (ms_ia - ms_e) / B_, "id:b": (ms_ib - ms_e) / A_,
            "id": (ms_id - ms_ia - ms_ib + ms_e) / (A_ * B_)}


def test_split_plot_fits_and_matches_the_anova_estimates():
    frame = split_plot()
    expected = anova_components(frame)
    assert min(expected.values()) > 0  # the closed forms are REML's only when positive
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        fit = lmmdx.fit("y ~ a * b + (1 | id) + (1 | id:a) + (1 | id:b)", frame)
    assert fit.nobs == 60 and dict(fit.ngroups) == {"id:b": 30, "id:a": 20, "id": 10}
    assert sum(fit.ngroups.values()) == fit.nobs
    variances = {c.group: c.variance for c in fit.random_effects if c.term in ("(Intercept)", None)}
    assert fit.sigma**2 == pytest.approx(expected["residual"], rel=1e-5)
    for group in ("id", "id:a", "id:b"):
        assert variances[group] == pytest.approx(expected[group], rel=1e-5), group
    X = pd.get_dummies(frame[["a", "b"]], drop_first=True).astype(float)
    X.insert(2, "ab1", X["a_a1"] * X["b_b1"])
    X.insert(3, "ab2", X["a_a1"] * X["b_b2"])
    design = np.column_stack([np.ones(60), X[["a_a1", "b_b1", "b_b2", "ab1", "ab2"]].to_numpy()])
    ols = np.linalg.lstsq(design, frame["y"].to_numpy(), rcond=None)[0]
    assert fit.fixed_names == ("(Intercept)", "aa1", "bb1", "bb2", "aa1:bb1", "aa1:bb2")
    np.testing.assert_allclose(fit.beta, ols, rtol=1e-7, atol=1e-9)


def test_saturated_total_is_a_diagnosis_finding():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        fit = lmmdx.fit("y ~ a * b + (1 | id) + (1 | id:a) + (1 | id:b)", split_plot())
    finding = next(f for f in fit.diagnose().findings if f.code == "random_effects_saturate")
    assert finding.severity == "info"
    assert finding.evidence["random_effects"] == 60 and finding.evidence["nobs"] == 60


def test_a_term_with_as_many_random_effects_as_observations_is_refused():
    frame = split_plot().assign(x=np.tile([0.0, 1.0], 30))
    with pytest.raises(lmmdx.DataError, match=r"60 random effects \(30 levels × 2\) but there are only 60"):
        lmmdx.fit("y ~ x + (x | id:b)", frame)
