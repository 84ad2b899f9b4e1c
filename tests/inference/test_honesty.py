"""When Wald inference is flagged, in the API, the summary and the JSON."""

from __future__ import annotations

import numpy as np
from support import reference_fit

from lmmdx.inference.honesty import wald_check
from lmmdx.inference.satterthwaite import varpar_information


def test_regular_fit_is_not_flagged():
    fit = reference_fit("sleepstudy_slope_reml")
    check = wald_check(fit, varpar_information(fit).eigenvalues)
    assert not check.broken and check.message == ""
    assert "!" not in fit.summary()
    payload = fit.to_dict()
    assert payload["inference"]["wald_reliable"] is True
    assert all(fe["wald_reliable"] for fe in payload["fixed_effects"])


def test_singular_fit_names_the_boundary_and_points_elsewhere():
    fit = reference_fit("seed_example_slope_reml")
    check = wald_check(fit, varpar_information(fit).eigenvalues)
    assert check.broken and check.boundary == ("group: x",)
    assert "profile" in check.message and "bootstrap" in check.message
    summary = fit.summary()
    rows = [line for line in summary.splitlines() if line.startswith((" (Intercept) ", " x   "))]
    assert len(rows) == 2 and all(row.endswith(" !") for row in rows)
    assert "group: x on the boundary" in summary
    payload = fit.to_dict()
    assert payload["inference"]["wald_reliable"] is False
    assert not any(fe["wald_reliable"] for fe in payload["fixed_effects"])


def test_evidence_can_come_from_a_diagnosis():
    fit = reference_fit("sleepstudy_slope_reml")
    check = wald_check(fit, boundary=(), near_singular=True)
    assert check.broken and "near-singular" in check.message


def test_kenward_roger_and_no_ddf_are_checked_too():
    from lmmdx.inference.ddf import Tester

    fit = reference_fit("seed_example_slope_reml")
    assert Tester(fit, "kenward-roger").check().broken
    assert Tester(fit, None).check().boundary == ("group: x",)
    assert Tester(fit, None).coefficients() == ()
    assert "Pr(>|t|)" not in fit.summary(ddf=None)


def test_near_singular_information_is_relative_to_its_scale():
    fit = reference_fit("sleepstudy_slope_reml")
    assert wald_check(fit, np.array([1.0, 1e6])).broken is False  # ratio 1e-6
    check = wald_check(fit, np.array([1e-3, 1e6]))  # ratio 1e-9
    assert check.broken and check.near_singular and check.boundary == ()
    assert wald_check(fit, np.array([-1.0, 5.0])).near_singular  # a saddle, not a minimum
