"""fit_many on a Dask cluster (2 worker processes): the local path's table, row for row; a killed
worker loses nothing; ``lmmdx batch --dask-local`` saves each chunk and resumes after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import lmmdx

pytestmark = pytest.mark.xdist_group("dask")

FORMULA = "y ~ x + (1 | g)"


def wide(count: int, seed: int = 17) -> tuple[pd.DataFrame, list[str]]:
    """A 60-row design (6 groups × 10) with ``count`` responses: one constant, one with gaps, one text."""
    rng = np.random.default_rng(seed)
    g = np.repeat([f"s{i}" for i in range(6)], 10)
    x = rng.normal(size=60)
    codes = np.repeat(np.arange(6), 10)
    names = [f"gene{i:04d}" for i in range(count)]
    columns = {name: 2.0 + 0.5 * x + rng.normal(0, rng.uniform(0.0, 1.0), 6)[codes] + rng.normal(size=60)
               for name in names}
    frame = pd.DataFrame({"g": g, "x": x, **columns})
    if count < 8:
        return frame, names
    frame["gene0003"] = 4.0
    frame.loc[:7, "gene0005"] = np.nan
    frame["gene0007"] = frame["gene0007"].astype(str).str[:4]
    return frame, names


@pytest.fixture(scope="module")
def genes() -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    frame, names = wide(500)
    return frame, names, lmmdx.fit_many(FORMULA, frame, responses=names).table


def _same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert list(got["response"]) == list(want["response"])
    numbers = [c for c in want.columns if c.startswith(("beta:", "se:", "sd:", "sigma", "objective"))]
    assert numbers
    gap = np.abs(got[numbers].to_numpy(float) - want[numbers].to_numpy(float))
    assert np.nanmax(gap) <= 1e-10
    assert (np.isnan(got[numbers].to_numpy(float)) == np.isnan(want[numbers].to_numpy(float))).all()
    for column in ("nobs", "n_dropped", "converged", "singular", "codes", "findings", "error"):
        pd.testing.assert_series_equal(got[column], want[column], check_dtype=False, check_index=False)


def test_five_hundred_responses_as_on_the_local_path(client, genes):
    frame, names, local = genes
    assert local["error"].notna().sum() == 2  # the constant and the text response
    seen: list[tuple[int, int]] = []
    result = lmmdx.fit_many(FORMULA, frame, responses=names, client=client,
                            progress=lambda done, total: seen.append((done, total)))
    _same_table(result.table, local)
    assert seen[0] == (0, 500) and seen[-1] == (500, 500) and len(seen) > 3
    assert result.summary.n_fits == 500 and result.summary.n_failed == 2


def test_by_level_on_the_cluster(client):
    frame, _ = wide(1)
    frame["site"] = np.tile(["a", "b", "c"], 20)
    frame = frame.rename(columns={"gene0000": "y"})
    local = lmmdx.fit_many(FORMULA, frame, by="site").table
    got = lmmdx.fit_many(FORMULA, frame, by="site", client=client).table
    assert list(got["site"]) == ["a", "b", "c"]
    pd.testing.assert_frame_equal(got, local)


def test_a_killed_worker_loses_no_row(client, genes):
    """A worker is killed (SIGKILL) as the first chunk comes back; its chunk is fitted again elsewhere."""
    frame, names, local = genes
    pids = client.run(os.getpid)
    victim = min(pids.values())
    killed: list[int] = []

    def kill_once(done: int, total: int) -> None:
        if done and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    result = lmmdx.fit_many(FORMULA, frame, responses=names, client=client, progress=kill_once)
    assert killed == [victim]
    _same_table(result.table, local)
    client.wait_for_workers(2, timeout=120)  # the nanny restarts it for the next test
    assert victim not in client.run(os.getpid).values()


def _lmmdx(*argv: str) -> list[str]:
    return [sys.executable, "-m", "lmmdx.cli.main", *argv]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL of a process group")
def test_resume_after_a_killed_run_writes_each_response_once(tmp_path, genes):
    frame, names, local = genes
    data = tmp_path / "wide.parquet"
    frame.to_parquet(data)
    out = tmp_path / "results.parquet"
    parts = tmp_path / "results.parquet.parts"
    command = _lmmdx("batch", str(data), FORMULA, "--responses", "gene*", "--out", str(out), "--dask-local", "2",
                     "--no-progress", "--json")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None and len(list(parts.glob("part-*.parquet"))) < 2:
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGKILL)  # the command, its scheduler and its workers: nothing is saved at exit
    process.communicate(timeout=60)
    assert not out.exists()
    saved = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("part-*.parquet"))])
    assert 0 < len(saved) < 500 and saved["response"].is_unique

    refused = subprocess.run(command, capture_output=True, timeout=600, check=False)
    assert refused.returncode == 2 and b"--resume" in refused.stderr

    resumed = subprocess.run([*command, "--resume"], capture_output=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["resumed"] == len(saved) and report["fits"] == 500 - len(saved)
    assert report["rows_written"] == 500
    table = pd.read_parquet(out)
    assert list(table["response"]) == names  # each response once, in input order
    _same_table(table, local)
    assert not parts.exists()
