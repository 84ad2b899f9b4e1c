"""Refits by every optimiser and from several starts; threads give the same answers."""

from __future__ import annotations

import pytest
from diagnose_support import fitted

from lmmdx.diagnose.agreement import estimates, optimizer_runs
from lmmdx.diagnose.parameters import VarCovMap
from lmmdx.engine import OPTIMIZERS


def test_runs_cover_every_optimizer_and_start():
    runs = optimizer_runs(fitted("sleep"))
    assert runs[0].start == "fit"
    assert {r.optimizer for r in runs} == set(OPTIMIZERS)
    assert {(r.optimizer, r.start) for r in runs if r.optimizer == "bobyqa"} == {
        ("bobyqa", "fit"), ("bobyqa", "small"), ("bobyqa", "large")}
    best = min(r.objective for r in runs)
    for run in runs:
        assert run.objective == pytest.approx(best, abs=1e-6)
        assert run.estimates["Subject: (Intercept)"] == pytest.approx(24.7405, rel=1e-3)
        assert run.estimates["beta: Days"] == pytest.approx(10.4673, rel=1e-5)


def test_threads_and_serial_agree():
    fit = fitted("seed")
    serial = optimizer_runs(fit, parallel=False)
    threaded = optimizer_runs(fit, parallel=True)
    assert [(r.optimizer, r.start, r.objective) for r in serial] == [
        (r.optimizer, r.start, r.objective) for r in threaded]


def test_estimates_are_sds_correlations_sigma_and_beta():
    fit = fitted("seed")
    values = estimates(fit, VarCovMap(fit.model, True))
    assert values["group: corr((Intercept), x)"] == pytest.approx(1.0, abs=1e-6)
    assert values["group: (Intercept)"] == pytest.approx(1.43603, rel=1e-4)
    assert values["residual"] == pytest.approx(fit.sigma)
    assert values["beta: x"] == pytest.approx(1.000947, rel=1e-5)


def test_expensive_models_restart_next_to_the_optimum_with_a_budget(monkeypatch):
    from lmmdx.diagnose import agreement

    monkeypatch.setattr(agreement, "BUDGET_SECONDS", 0.0)
    runs = agreement.optimizer_runs(fitted("sleep"))
    assert [r.start for r in runs] == ["fit"] + ["near_optimum"] * (len(OPTIMIZERS) - 1)
    assert all(r.nevals <= 50 for r in runs[1:])
    assert min(r.objective for r in runs) == pytest.approx(runs[0].objective, abs=1e-6)


def test_agreement_groups_runs_and_measures_spreads():
    from lmmdx.diagnose.agreement import OBJECTIVE_AGREE, agreement
    from lmmdx.diagnose.tables import OptimizerRun

    runs = (OptimizerRun("bobyqa", "fit", 10.0, True, 40, {"a": 1.0, "b": 2.0}),
            OptimizerRun("sbplx", "lme4", 10.0 + OBJECTIVE_AGREE / 2, True, 90, {"a": 1.5, "b": 2.0}),
            OptimizerRun("cobyla", "lme4", 11.0, True, 90, {"a": 9.0, "b": 9.0}),
            OptimizerRun("nelder_mead", "lme4", None, False, 0, {}))
    agree = agreement(runs)
    assert agree.best is runs[0]
    assert agree.agreeing == runs[:2] and agree.stopped_short == runs[2:]
    assert agree.objective_spread == 1.0
    assert agree.estimate_spread == {"a": 0.5, "b": 0.0}
    assert agreement((runs[3],)).best is None


def test_every_refit_has_an_evaluation_budget(monkeypatch):
    from lmmdx.diagnose import agreement

    monkeypatch.setattr(agreement, "BUDGET_SECONDS", 1e-9)
    monkeypatch.setattr(agreement, "_EVALS_PER_RUN", 0)  # keep the starts from lme4's
    runs = agreement.optimizer_runs(fitted("sleep"))
    assert {r.start for r in runs[1:]} == {"lme4", "small", "large"}
    assert all(r.nevals <= 50 for r in runs[1:])
    assert any(not r.converged for r in runs[1:])
