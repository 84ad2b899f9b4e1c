"""``lmmdx batch``: one row per response (or level), a summary, exit 0; bad input is one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import DATA
from support import run_cli as run

from lmmdx.cli.main import main

FORMULA = "y ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def wide_csv(tmp_path_factory) -> str:
    """Sleepstudy's design with 200 response columns: 3 constant, 2 all missing, 1 with gaps."""
    frame = pd.read_csv(DATA / "sleepstudy.csv")
    rng = np.random.default_rng(2026)
    subject = pd.factorize(frame["Subject"])[0]
    days = frame["Days"].to_numpy()
    columns = {}
    for i in range(200):
        slopes = rng.normal(0.0, rng.uniform(0.0, 6.0), 18)
        columns[f"r{i:03d}"] = (250 + 10 * days + rng.normal(0, 25, 18)[subject] + slopes[subject] * days
                                + rng.normal(0, 25, days.size))
    wide = pd.concat([frame, pd.DataFrame(columns)], axis=1)
    wide[["r010", "r020", "r030"]] = 7.0
    wide[["r040", "r050"]] = np.nan
    wide.loc[:9, "r060"] = np.nan
    path = tmp_path_factory.mktemp("batch") / "wide.csv"
    wide.to_csv(path, index=False)
    return str(path)



def test_two_hundred_responses(capsys, tmp_path, wide_csv):
    out_path = tmp_path / "results.parquet"
    code, out, err = run(capsys, "batch", wide_csv, FORMULA, "--responses", "r*", "--out", str(out_path),
                         "--workers", "2", "--no-progress")
    assert code == 0, err
    assert "Traceback" not in out + err
    table = pd.read_parquet(out_path)
    assert len(table) == 200 and list(table["response"]) == [f"r{i:03d}" for i in range(200)]
    failed = table[table["error"].notna()]
    assert sorted(failed["response"]) == ["r010", "r020", "r030", "r040", "r050"]
    fitted = table[table["error"].isna()]
    assert fitted[["beta:Days", "se:Days", "sd:Subject:Days", "sigma"]].notna().all().all()
    assert table.set_index("response").loc["r060", "n_dropped"] == 10
    assert out.startswith("200 fits of y ~ Days + (Days | Subject) (REML): 195 fitted, 5 failed;")
    assert "  3 fits: the response '<response>' has the same value (7)" in out
    assert "Missing values: 1 fit left out 10 rows" in out
    assert "Wrote 200 rows to" in out


def test_csv_output_and_json_summary(capsys, tmp_path, wide_csv):
    out_path = tmp_path / "results.csv"
    code, out, _ = run(capsys, "batch", wide_csv, FORMULA, "--responses", "r000,r001,r010", "--out",
                       str(out_path), "--workers", "1", "--json", "--ml", "--no-progress")
    assert code == 0
    summary = json.loads(out)
    assert (summary["fits"], summary["failed"], summary["reml"]) == (3, 1, False)
    table = pd.read_csv(out_path)
    assert list(table["response"]) == ["r000", "r001", "r010"]


def test_by_level(capsys, tmp_path):
    out_path = tmp_path / "by.csv"
    code, out, _ = run(capsys, "batch", str(DATA / "cake.csv"), "angle ~ temp + (1 | replicate)", "--by", "recipe",
                       "--out", str(out_path), "--no-progress")
    assert code == 0
    assert list(pd.read_csv(out_path)["recipe"]) == ["A", "B", "C"]
    assert out.startswith("3 fits of angle ~ temp + (1 | replicate) (REML): 3 fitted, 0 failed;")


@pytest.mark.parametrize(("argv", "message"), [
    (["--responses", "r000", "--out", "x.txt"], "must end in .parquet or .csv"),
    (["--responses", "nope*", "--out", "x.csv"], "no column matches 'nope*'"),
    (["--responses", "nope", "--out", "x.csv"], "unknown response column(s) 'nope'"),
    (["--by", "nope", "--out", "x.csv"], "unknown column 'nope'"),
])
def test_bad_arguments_are_one_line(capsys, tmp_path, wide_csv, argv, message):
    argv = [a if a != "x.csv" and a != "x.txt" else str(tmp_path / a) for a in argv]
    code, out, err = run(capsys, "batch", wide_csv, FORMULA, *argv, "--no-progress")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_responses_or_by_is_required(capsys, wide_csv):
    with pytest.raises(SystemExit) as info:
        main(["batch", wide_csv, FORMULA, "--out", "x.csv"])
    assert info.value.code == 2
    assert "one of the arguments --responses --by is required" in capsys.readouterr().err
