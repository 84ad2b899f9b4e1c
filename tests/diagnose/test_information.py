"""Observed information on the variance/covariance scale, checked against a dense REML computation."""

from __future__ import annotations

import numpy as np
import pytest
from diagnose_support import diagnosed_frame, fitted
from support import load

from lmmdx.diagnose.information import observed_information


def _dense_reml_ses(phi: np.ndarray) -> np.ndarray:
    """Independent check: REML −2 log L of sleepstudy from V = ZGZᵀ + σ²I (block diagonal by subject,
    10 × 10 blocks), Hessian by central differences."""
    data = load("sleepstudy.csv").sort_values(["Subject", "Days"])
    y = data["Reaction"].to_numpy(float).reshape(18, 10)
    days = data["Days"].to_numpy(float).reshape(18, 10)
    z = np.stack([np.ones_like(days), days], axis=2)  # (subject, obs, effect)
    x = z  # the fixed part has the same columns

    def crit(p: np.ndarray) -> float:
        v0, v1, c, s2 = p
        g = np.array([[v0, c], [c, v1]])
        v = z @ g @ z.transpose(0, 2, 1) + s2 * np.eye(10)
        vx = np.linalg.solve(v, x)
        vy = np.linalg.solve(v, y[:, :, None])[:, :, 0]
        xtvx = np.einsum("sok,sol->kl", x, vx)
        xtvy = np.einsum("sok,so->k", x, vy)
        beta = np.linalg.solve(xtvx, xtvy)
        logdet = np.linalg.slogdet(v)[1].sum()
        return logdet + np.linalg.slogdet(xtvx)[1] + float(np.sum(y * vy)) - xtvy @ beta

    h = 1e-3 * np.array([phi[0], phi[1], np.sqrt(phi[0] * phi[1]), phi[3]])
    hess = np.zeros((4, 4))
    for i in range(4):
        for j in range(i, 4):
            total = 0.0
            for si in (1, -1):
                for sj in (1, -1):
                    e = np.zeros(4)
                    e[i] += si * h[i]
                    e[j] += sj * h[j]
                    total += si * sj * crit(phi + e)
            hess[i, j] = hess[j, i] = total / (4 * h[i] * h[j])
    return np.sqrt(np.diag(2.0 * np.linalg.inv(hess)))


def test_sleepstudy_standard_errors_match_a_dense_computation():
    info = observed_information(fitted("sleep"))
    assert info.varcov.names == ("Subject: (Intercept)", "Subject: Days", "Subject: corr((Intercept), Days)",
                                 "residual")
    ses = np.array([c.std_error for c in info.components])
    assert ses == pytest.approx(_dense_reml_ses(info.phi), rel=1e-4)
    assert ses == pytest.approx([288.78, 14.782, 46.678, 77.185], rel=1e-3)
    assert info.summary.positive_definite and 1.0 < info.summary.condition < 10.0
    z = {c.parameter: c.z_value for c in info.components}
    assert z["Subject: corr((Intercept), Days)"] == pytest.approx(9.604 / 46.678, rel=1e-3)


def test_boundary_parameters_are_held_and_get_no_standard_error():
    info = observed_information(fitted("seed"))
    assert info.boundary == ("group: corr((Intercept), x)",)
    assert info.summary.parameters == ("group: (Intercept)", "group: x", "residual")
    term = info.terms[0]
    assert term.singular and term.correlation_boundary and term.zero_effects == ()
    info2 = observed_information(fitted("dyestuff2"))
    assert info2.boundary == ("Batch: (Intercept)",)
    assert info2.terms[0].zero_effects == (0,)
    residual = next(c for c in info2.components if c.parameter == "residual")
    # with the batch variance at 0 the model is ordinary regression: Var(σ̂²) = 2σ⁴/(n − p)
    assert residual.std_error == pytest.approx(np.sqrt(2 * residual.estimate**2 / 29), rel=1e-4)


def test_ml_information_of_dyestuff_matches_the_balanced_anova_formula():
    """ML, balanced one-way: Var(σ̂²) and Var(σ̂²_b) have closed forms (Searle, Casella & McCulloch 1992)."""
    fit = fitted("dyestuff", reml=False)
    info = observed_information(fit)
    s2 = info.phi[-1]
    sb2 = info.phi[0]
    a, n = 6, 5
    tau = s2 + n * sb2
    # inverse of the expected information; at the ML estimate of balanced data it equals the observed one
    fisher = 0.5 * np.array([[a * n**2 / tau**2, a * n / tau**2],
                             [a * n / tau**2, a * (n - 1) / s2**2 + a / tau**2]])
    expected = np.sqrt(np.diag(np.linalg.inv(fisher)))
    ses = np.array([c.std_error for c in info.components])
    assert ses == pytest.approx(expected, rel=1e-5)


def test_unidentified_combination_is_named():
    d = diagnosed_frame("one_per_level")
    assert d.information is not None and d.information.near_null
    combo = d.information.near_null[0]
    assert {k for k, v in combo.loadings.items() if abs(v) > 0.5} == {"id: (Intercept)", "residual"}
    loadings = [combo.loadings["id: (Intercept)"], combo.loadings["residual"]]
    assert loadings[0] * loadings[1] < 0  # a trade-off: one up, the other down
    assert combo.plain() == "separate id: (Intercept) from residual" or combo.plain() == \
        "separate residual from id: (Intercept)"
    assert all(c.std_error is None for c in d.variance_components)
