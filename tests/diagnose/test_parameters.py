"""User-scale variance–covariance parameters: names, the map to internal θ, the non-profiled criterion."""

from __future__ import annotations

import numpy as np
import pytest
from diagnose_support import fitted

from lmmdx.diagnose.parameters import VarCovMap, parameter_names
from lmmdx.engine.scaling import psd_factor


def test_names_are_as_the_user_wrote_them():
    names = [s.name for s in parameter_names(fitted("seed").model)]
    assert names == ["group: (Intercept)", "group: x", "group: corr((Intercept), x)", "residual"]
    names = [s.name for s in parameter_names(fitted("pastes").model)]
    assert names == ["batch:cask: (Intercept)", "batch: (Intercept)", "residual"]


@pytest.mark.parametrize("name", ["seed", "sleep", "penicillin", "dyestuff2"])
@pytest.mark.parametrize("reml", [True, False])
def test_non_profiled_criterion_equals_the_profiled_one_at_the_optimum(name, reml):
    fit = fitted(name, reml)
    varcov = VarCovMap(fit.model, reml)
    phi = varcov.from_fit(fit.theta_internal, fit.sigma)
    assert varcov.criterion(phi) == pytest.approx(fit.model.deviance(fit.theta_internal, reml), abs=1e-8)


def test_phi_holds_lme4s_variance_components():
    fit = fitted("sleep")
    varcov = VarCovMap(fit.model, True)
    phi = dict(zip(varcov.names, varcov.from_fit(fit.theta_internal, fit.sigma), strict=True))
    assert phi["Subject: (Intercept)"] == pytest.approx(612.09, rel=1e-4)
    assert phi["Subject: Days"] == pytest.approx(35.0717, rel=1e-4)
    assert phi["Subject: corr((Intercept), Days)"] == pytest.approx(0.0656 * np.sqrt(612.09 * 35.0717), rel=2e-3)
    assert phi["residual"] == pytest.approx(654.941, rel=1e-5)


def test_outside_the_parameter_space_is_infinite():
    fit = fitted("sleep")
    varcov = VarCovMap(fit.model, True)
    phi = varcov.from_fit(fit.theta_internal, fit.sigma)
    bad = phi.copy()
    bad[2] = 2.0 * np.sqrt(phi[0] * phi[1])  # |covariance| above the product of the SDs
    assert varcov.to_internal(bad) is None and varcov.criterion(bad) == np.inf
    negative = phi.copy()
    negative[-1] = -1.0
    assert varcov.criterion(negative) == np.inf


def test_psd_factor_handles_singular_matrices():
    psi = np.array([[4.0, 2.0], [2.0, 1.0]])  # rank 1
    t = psd_factor(psi)
    assert t is not None and np.allclose(t @ t.T, psi) and np.allclose(np.triu(t, 1), 0) and t[1, 1] == 0
    assert psd_factor(np.array([[1.0, 2.0], [2.0, 1.0]])) is None
