"""The Dask options of the command line: one line on stderr and exit code 2 for what cannot work."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from support import run_cli as run


@pytest.fixture
def data(tmp_path) -> str:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": np.repeat(list("abcdef"), 5), "x": rng.normal(size=30), "y1": rng.normal(size=30),
                          "y2": rng.normal(size=30)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_missing_dask_names_the_extra(capsys, data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask.distributed were not installed
    code, out, err = run(capsys, "batch", data, "y ~ x + (1 | g)", "--responses", "y*", "--out",
                         str(tmp_path / "r.parquet"), "--dask-local", "2")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("lmmdx: error: ")
    assert "pip install 'lmmdx[dask]'" in err


def test_workers_and_a_cluster_are_refused_together(capsys, data, tmp_path):
    code, _, err = run(capsys, "batch", data, "y ~ x + (1 | g)", "--responses", "y*", "--out",
                       str(tmp_path / "r.parquet"), "--dask-local", "2", "--workers", "2")
    assert code == 2 and err.count("\n") == 1 and "--workers" in err


@pytest.mark.parametrize("option", [["--dask-local", "0"], ["--dask-local", "2", "--scheduler", "tcp://127.0.0.1:1"]])
def test_bad_cluster_options(capsys, data, tmp_path, option):
    with pytest.raises(SystemExit) as stop:  # argparse's own refusal, as one line
        run(capsys, "batch", data, "y ~ x + (1 | g)", "--responses", "y*", "--out", str(tmp_path / "r.parquet"),
            *option)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and err.startswith("lmmdx: error: ")


def test_an_unreachable_scheduler_is_one_line(capsys, data, tmp_path):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, _, err = run(capsys, "batch", data, "y ~ x + (1 | g)", "--responses", "y*", "--out",
                           str(tmp_path / "r.parquet"), "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("lmmdx: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
