"""The command line: output, exit codes, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from support import DATA, REFERENCE
from support import run_cli as run

SLEEP = str(DATA / "sleepstudy.csv")



def test_fit_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "fit", SLEEP, "Reaction ~ Days + (Days | Subject)", "--json")
    assert code == 0
    payload = json.loads(out)
    for key in ("formula", "reml", "nobs", "ngroups", "objective", "loglik", "aic", "bic", "sigma", "theta",
                "fixed_effects", "random_effects", "correlations", "converged", "singular", "warnings"):
        assert key in payload
    assert payload["objective"] == pytest.approx(REFERENCE["sleepstudy_slope_reml"]["objective"], abs=1e-4)
    assert payload["ngroups"] == {"Subject": 18}
    assert [fe["term"] for fe in payload["fixed_effects"]] == ["(Intercept)", "Days"]
    assert set(payload["fixed_effects"][0]) >= {"term", "estimate", "std_error", "t_value"}
    assert payload["correlations"][0]["corr"] == pytest.approx(0.0656, abs=1e-3)
    assert payload["reml"] is True and payload["converged"] is True and payload["singular"] is False


def test_fit_ml_flag(capsys):
    code, out, _ = run(capsys, "fit", SLEEP, "Reaction ~ Days + (Days | Subject)", "--ml", "--json")
    assert code == 0
    assert json.loads(out)["objective"] == pytest.approx(REFERENCE["sleepstudy_slope_ml"]["objective"], abs=1e-4)


def test_fit_text_reads_like_lme4(capsys):
    code, out, _ = run(capsys, "fit", SLEEP, "Reaction ~ Days + (Days | Subject)")
    assert code == 0
    assert "REML criterion at convergence: 1743.6283" in out
    assert "Random effects:" in out and "Fixed effects:" in out
    assert "Number of obs: 180, groups:  Subject, 18" in out


def test_demo_reports_singular_fit(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "y ~ x + (x | group)" in out
    assert "The fit is singular" in out
    assert "Verdict: This model is over-parameterised for these data" in out
    assert "y ~ x + (1 + x || group)" in out  # the first remedy
    assert "Recommendation: lrt_selected" in out  # the remedies, fitted and compared


def bad(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_missing_file(capsys):
    assert "no such file" in bad(capsys, "fit", "nope.csv", "y ~ x + (1 | g)")


def test_unreadable_file(capsys, tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"\x00\x01 not parquet")
    assert "cannot read" in bad(capsys, "fit", str(path), "y ~ x + (1 | g)")


def test_formula_syntax_error_shows_position(capsys):
    message = bad(capsys, "fit", SLEEP, "Reaction ~ Days + (Days | Subject")
    assert "position" in message


def test_unknown_column(capsys):
    assert "unknown column 'Dayz'" in bad(capsys, "fit", SLEEP, "Reaction ~ Dayz + (1 | Subject)")


def test_unknown_grouping_column(capsys):
    assert "unknown column 'Subj'" in bad(capsys, "fit", SLEEP, "Reaction ~ Days + (1 | Subj)")


def test_no_random_term(capsys):
    assert "no random-effects term" in bad(capsys, "fit", SLEEP, "Reaction ~ Days")


def write(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_non_numeric_response(capsys, tmp_path):
    path = write(tmp_path, pd.DataFrame({"y": list("abcdef"), "g": [1, 1, 2, 2, 3, 3]}))
    assert "not numeric" in bad(capsys, "fit", path, "y ~ 1 + (1 | g)")


def test_one_level_factor(capsys, tmp_path):
    path = write(tmp_path, pd.DataFrame({"y": np.arange(6.0), "g": ["a"] * 6}))
    message = bad(capsys, "fit", path, "y ~ 1 + (1 | g)")
    assert "'g' has only one level" in message


def test_as_many_levels_as_observations(capsys, tmp_path):
    path = write(tmp_path, pd.DataFrame({"y": np.arange(6.0) ** 2, "g": list("abcdef")}))
    message = bad(capsys, "fit", path, "y ~ 1 + (1 | g)")
    assert "as many levels (6) as observations" in message and "residual" in message


def test_empty_after_missing_values(capsys, tmp_path):
    path = write(tmp_path, pd.DataFrame({"y": [np.nan] * 4, "x": [1.0, 2, 3, 4], "g": list("aabb")}))
    assert "no rows left" in bad(capsys, "fit", path, "y ~ x + (1 | g)")


def test_empty_file(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "is empty" in bad(capsys, "fit", str(path), "y ~ x + (1 | g)")


def test_header_only_file(capsys, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("y,x,g\n")
    assert "no rows" in bad(capsys, "fit", str(path), "y ~ x + (1 | g)")


def test_missing_rows_are_reported(capsys, tmp_path):
    frame = pd.read_csv(SLEEP)
    frame.loc[[1, 2], "Reaction"] = np.nan
    code, out, _ = run(capsys, "fit", write(tmp_path, frame), "Reaction ~ Days + (1 | Subject)", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["nobs"] == 178 and payload["n_missing"] == 2
    assert any("dropped 2 rows" in w for w in payload["warnings"])


def test_console_script_help_is_fast():
    result = subprocess.run([sys.executable, "-m", "lmmdx.cli.main", "--help"], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0
    assert "fit" in result.stdout and "demo" in result.stdout
