"""The stand-ins for inference and diagnosis: Satterthwaite df against lmerTest, chi-bar-square tails."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats
from support import REFERENCE, load

import lmmdx
from lmmdx.remedy.seams import chibar_pvalue, satterthwaite_df, verdict


@pytest.mark.parametrize(
    "case",
    [
        "sleepstudy_slope_reml",
        "seed_example_zerocorr_reml",
        "seed_example_intercept_ml",
        "penicillin_crossed_reml",
    ],
)
def test_satterthwaite_df_match_lmertest(case):
    ref = REFERENCE[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit(ref["formula"], load(ref["data"]), reml=ref["reml"])
    sigma = fit.sigma / fit.model.scaling.y_scale
    df = satterthwaite_df(fit.model, fit.theta_internal, sigma, fit.reml, np.eye(fit.beta.size))
    table = ref["satterthwaite_df"]
    expected = [table[name] for name in fit.fixed_names] if isinstance(table, dict) else np.atleast_1d(table)
    assert df == pytest.approx(expected, rel=1e-3)


def test_chibar_mixtures():
    assert chibar_pvalue(0.0, 0, 1) == 1.0
    assert chibar_pvalue(2.7, 0, 1) == pytest.approx(0.5 * scipy.stats.chi2.sf(2.7, 1))
    assert chibar_pvalue(3.0, 1, 2) == pytest.approx(
        0.5 * (scipy.stats.chi2.sf(3, 1) + scipy.stats.chi2.sf(3, 2))
    )


def test_verdict_names_a_singular_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + (x | group)", load("seed_example.csv"))
    assert verdict(fit) == "singular fit"
