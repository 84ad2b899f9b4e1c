"""Every lme4 1.1-31 reference fit (../shared/reference, copied to tests/data) is matched or beaten."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from support import REFERENCE, load

import lmmdx
from lmmdx.engine.polish import NOISE


def close(ours: float, theirs: float) -> bool:
    """Within 1e-3 relative, or 1e-4 absolute for values near zero."""
    return abs(ours - theirs) <= max(1e-3 * abs(theirs), 1e-4)


def lme4_sds(case: dict) -> list[float]:
    """Random-effect SDs (not correlations, not the residual), in lme4's order."""
    return [row["sdcor"] for row in case["varcorr"] if row["var2"] is None and row["grp"] != "Residual"]


@pytest.fixture(scope="module")
def fits() -> dict[str, lmmdx.Fit]:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        for key, case in REFERENCE.items():
            out[key] = lmmdx.fit(case["formula"], load(case["data"]), reml=case["reml"])
    return out


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_matches_lme4(key, fits):
    case, fit = REFERENCE[key], fits[key]
    assert fit.nobs == case["nobs"]
    assert fit.objective <= case["objective"] + 1e-4
    assert close(fit.sigma, case["sigma"])
    assert list(fit.fixed_names) == list(case["beta"])
    for ours, theirs in zip(fit.beta, case["beta"].values(), strict=True):
        assert close(ours, theirs)
    for ours, theirs in zip(fit.std_errors, case["beta_se"].values(), strict=True):
        assert close(ours, theirs)
    ours_sd = [c.sd for c in fit.random_effects if c.group != "Residual"]
    assert len(ours_sd) == len(lme4_sds(case))
    for ours, theirs in zip(ours_sd, lme4_sds(case), strict=True):
        assert close(ours, theirs)
    assert fit.singular == case["singular"]
    assert fit.loglik == pytest.approx(-fit.objective / 2)
    assert fit.aic == pytest.approx(case["aic"], abs=1e-3)
    assert fit.bic == pytest.approx(case["bic"], abs=1e-3)
    assert sorted(fit.ngroups.values()) == sorted(case["ngrps"].values())


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_theta_matches_lme4(key, fits):
    theirs = np.atleast_1d(REFERENCE[key]["theta"])
    np.testing.assert_allclose(fits[key].theta, theirs, rtol=2e-3, atol=2e-4)


def test_seed_example_is_singular_with_correlation_one(fits):
    fit = fits["seed_example_slope_reml"]
    assert fit.singular
    assert fit.correlations[0].corr == pytest.approx(1.0, abs=1e-6)
    assert any("singular" in w for w in fit.warnings)


def test_residuals_and_fitted_add_up(fits):
    fit = fits["sleepstudy_slope_reml"]
    y = load("sleepstudy.csv")["Reaction"].to_numpy()
    np.testing.assert_allclose(fit.fitted + fit.residuals, y)
    # lme4: fitted(fm1)[1] = 253.6637, ranef(fm1)$Subject["308", ] = (2.2585, 9.1990)
    assert fit.fitted[0] == pytest.approx(253.6637, abs=1e-3)
    modes = fit.ranef()["Subject"]
    assert modes.loc["308", "(Intercept)"] == pytest.approx(2.2585, abs=2e-3)
    assert modes.loc["308", "Days"] == pytest.approx(9.1990, abs=2e-3)


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_optimum_is_certified_and_not_above_lme4s(key, fits):
    """The certificate holds (Newton decrement below its tolerance) and the criterion is at most
    lme4's + 1e-6 relative; lme4's own optimum is not better than ours by more than the
    certificate's slack (its tolerance, or the criterion's rounding)."""
    fit, theirs = fits[key], REFERENCE[key]["objective"]
    cert = fit.certificate
    assert cert is not None and cert.holds and fit.converged
    assert cert.decrement <= cert.tolerance
    assert fit.objective <= theirs + 1e-6 * abs(theirs)
    assert fit.objective <= theirs + max(cert.tolerance, NOISE * abs(theirs))
    payload = fit.to_dict(ddf=None)["certificate"]
    assert payload["holds"] is True and payload["tolerance"] == cert.tolerance
    assert payload["held"] == [fit.theta_names[i] for i in cert.held]
