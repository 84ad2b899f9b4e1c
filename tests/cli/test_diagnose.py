"""``lmmdx diagnose``: output, --json, and exit codes per --fail-on."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import DATA
from support import run_cli as run

from lmmdx.cli.main import EXIT_ERROR, EXIT_FINDINGS, main

SEED = str(DATA / "seed_example.csv")
SLEEP = str(DATA / "sleepstudy.csv")



@pytest.fixture(scope="module")
def one_per_level(tmp_path_factory) -> str:
    rng = np.random.default_rng(2)
    path = tmp_path_factory.mktemp("data") / "single.csv"
    pd.DataFrame({"y": rng.normal(size=40), "x": rng.normal(size=40), "id": np.arange(40)}).to_csv(path, index=False)
    return str(path)


def test_text_output_starts_with_the_verdict(capsys):
    code, out, err = run(capsys, "diagnose", SEED, "y ~ x + (x | group)")
    assert code == 0 and err == ""
    assert out.splitlines()[2].startswith("Verdict: This model is over-parameterised")


def test_json_output(capsys):
    code, out, _ = run(capsys, "diagnose", SEED, "y ~ x + (x | group)", "--json", "--ml")
    payload = json.loads(out)
    assert code == 0 and payload["reml"] is False and payload["status"] == "over_parameterised"
    assert payload["findings"][0]["code"] == "singular_fit"


@pytest.mark.parametrize(("fail_on", "expected"), [(None, 0), ("warning", EXIT_FINDINGS), ("error", 0)])
def test_fail_on_with_warnings(capsys, fail_on, expected):
    argv = ["diagnose", SEED, "y ~ x + (x | group)"] + (["--fail-on", fail_on] if fail_on else [])
    assert run(capsys, *argv)[0] == expected


def test_fail_on_passes_a_clean_model(capsys):
    assert run(capsys, "diagnose", SLEEP, "Reaction ~ Days + (Days | Subject)", "--fail-on", "warning")[0] == 0


@pytest.mark.parametrize(("fail_on", "expected"), [(None, 0), ("warning", EXIT_FINDINGS), ("error", EXIT_FINDINGS)])
def test_one_observation_per_level_is_explained_not_refused(capsys, one_per_level, fail_on, expected):
    argv = ["diagnose", one_per_level, "y ~ x + (1 | id)"] + (["--fail-on", fail_on] if fail_on else [])
    code, out, err = run(capsys, *argv)
    assert code == expected and err == ""
    assert "residual variance not identifiable: one observation per level of id" in out
    assert "only their sum" in out


def test_bad_input_is_one_line_and_exit_2(capsys):
    code, out, err = run(capsys, "diagnose", SEED, "y ~ x + (x | nogroup)")
    assert code == EXIT_ERROR and out == ""
    assert err.startswith("lmmdx: error: unknown column 'nogroup'") and err.count("\n") == 1
    code, _, err = run(capsys, "diagnose", SEED, "y ~ x + (x | group")
    assert code == EXIT_ERROR and err.count("\n") == 1
    code, _, err = run(capsys, "diagnose", str(DATA / "missing.csv"), "y ~ x + (1 | group)")
    assert code == EXIT_ERROR and err.count("\n") == 1


def test_bad_fail_on_value_is_rejected(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["diagnose", SEED, "y ~ x + (1 | group)", "--fail-on", "info"])
    assert exc.value.code == 2


def test_diagnose_with_invariance_adds_the_self_test(capsys, monkeypatch):
    from lmmdx.engine import Tolerances
    from lmmdx.fitting import fit_model
    from lmmdx.invariance import check as check_module
    from lmmdx.model import Model

    argv = ["diagnose", SLEEP, "Reaction ~ Days + (Days | Subject)", "--invariance", "--json"]
    assert main(argv) == 0
    clean = json.loads(capsys.readouterr().out)
    assert "invariance" not in [f["code"] for f in clean["findings"]]  # every writing agrees to 1e-7

    def refit_stopped_early(design, reml=True, optimizer="bobyqa"):
        return fit_model(Model.from_design(design), reml=reml, tolerances=Tolerances(maxeval=8))

    monkeypatch.setattr(check_module, "fit_design", refit_stopped_early)
    assert main([*argv, "--fail-on", "warning"]) == EXIT_FINDINGS
    payload = json.loads(capsys.readouterr().out)
    (finding,) = [f for f in payload["findings"] if f["code"] == "invariance"]
    assert finding["severity"] == "warning" and finding["remedies"][0]["action"] == "other_optimizer"
