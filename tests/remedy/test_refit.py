"""Refits on the original fit's rows and response, each distinct model fitted once."""

from __future__ import annotations

import warnings

import pytest
from support import load

import lmmdx
from lmmdx.remedy.refit import FitCache, feasible
from lmmdx.remedy.stepwise import backward_elimination
from lmmdx.remedy.structure import structure_of


def test_refits_use_the_rows_of_the_original_fit():
    data = load("seed_example.csv")
    data.loc[:9, "z"] = float("nan")  # a column only the user's model uses
    data.loc[10:, "z"] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + z + (x | group)", data)
    cache = FitCache(fit)
    refit = cache.fit(structure_of("y ~ x + (1 | group)"))
    assert refit.fit is not None and refit.fit.nobs == fit.nobs == 150


def test_refits_use_the_response_of_the_fit_not_of_the_frame():
    from lmmdx.fitting import fit_model

    data = load("seed_example.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + (x | group)", data)
        y = fit.model.design.y[::-1].copy()
        simulated = fit_model(fit.model.with_response(y))
        direct = lmmdx.fit("y ~ x + (1 | group)", data.assign(y=y))
    refit = FitCache(simulated).fit(structure_of("y ~ x + (1 | group)"))
    assert refit.fit is not None
    assert refit.fit.beta == pytest.approx(direct.beta, rel=1e-8)
    assert refit.fit.objective == pytest.approx(direct.objective, rel=1e-10)


def test_refits_keep_duplicated_row_labels_so_models_compare():
    data = load("seed_example.csv")
    data.index = [i // 2 for i in range(len(data))]  # every label twice
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + (x || group)", data)
    cache = FitCache(fit)
    cache.seed(structure_of(fit.formula), fit)
    chosen = backward_elimination(structure_of(fit.formula), cache)
    assert chosen.tests and chosen.tests[0].p_value is not None


def test_each_model_is_fitted_once_and_feasibility_reads_the_flags():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + (x | group)", load("seed_example.csv"))
    cache = FitCache(fit)
    cache.seed(structure_of(fit.formula), fit)
    first = cache.fit(structure_of("y ~ x + (1 | group)"))
    again = cache.fit(structure_of("y ~ 1 + x + (1 | group)"))
    assert first is again and cache.nfits == 2
    assert feasible(first) and not feasible(cache.fit(structure_of(fit.formula)))
    empty = cache.fit(structure_of("y ~ x + (1 | group)").without("group", "1"))
    assert empty.fit is None and "no random-effects term" in empty.error
