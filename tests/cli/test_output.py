"""``lmmdx batch --out``: never lose data (issue 12).

The output is checked before any fit (not the input, not a directory, writable, not an
existing file unless --overwrite or --resume), written atomically, saved as fits finish;
an interrupted batch (SIGTERM here) leaves no worker behind and a readable table of the
finished fits, and --resume completes it with each response once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import DATA
from support import run_cli as run

from lmmdx.cli.io import write_table
from lmmdx.cli.output import journal_path

FORMULA = "y ~ Days + (Days | Subject)"


def wide_frame(responses: int, seed: int = 11) -> pd.DataFrame:
    frame = pd.read_csv(DATA / "sleepstudy.csv")
    rng = np.random.default_rng(seed)
    subject = pd.factorize(frame["Subject"])[0]
    days = frame["Days"].to_numpy()
    columns = {f"gene{i:04d}": 250 + 10 * days + rng.normal(0, 25, 18)[subject]
               + rng.normal(0, 5, 18)[subject] * days + rng.normal(0, 25, days.size) for i in range(responses)}
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)


@pytest.fixture()
def data(tmp_path) -> Path:
    path = tmp_path / "data.csv"
    wide_frame(4).to_csv(path, index=False)
    return path


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lmmdx: error: "), err
    return lines[0]


def batch(*argv: str) -> list[str]:
    return ["batch", *argv[:1], FORMULA, "--responses", "gene*", "--no-progress", *argv[1:]]


def test_out_equal_to_the_input_is_refused_and_the_input_kept(capsys, data):
    before = data.read_bytes()
    message = one_line_error(capsys, *batch(str(data), "--out", str(data)))
    assert "is the data file the run reads" in message
    assert data.read_bytes() == before
    assert "is the data file" in one_line_error(capsys, *batch(str(data), "--out", str(data), "--overwrite"))
    assert data.read_bytes() == before


def test_a_link_to_the_input_is_refused(capsys, data, tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    hard = tmp_path / "hard.csv"
    os.link(data, hard)
    assert "is the data file" in one_line_error(capsys, *batch(str(data), "--out", str(link), "--overwrite"))
    assert "is the data file" in one_line_error(capsys, *batch(str(data), "--out", str(hard), "--overwrite"))
    assert link.is_symlink() and data.read_bytes() == hard.read_bytes()


def test_a_directory_is_refused(capsys, data, tmp_path):
    folder = tmp_path / "results.csv"
    folder.mkdir()
    assert "is a directory" in one_line_error(capsys, *batch(str(data), "--out", str(folder)))


def test_missing_or_unwritable_folder_is_refused_before_reading(capsys, tmp_path):
    missing = tmp_path / "nope" / "out.csv"
    assert "no such folder" in one_line_error(capsys, *batch("no-such-data.csv", "--out", str(missing)))
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert "cannot write" in one_line_error(capsys, *batch("no-such-data.csv", "--out", str(locked / "o.csv")))


def test_existing_output_needs_overwrite(capsys, data, tmp_path):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"precious")
    message = one_line_error(capsys, *batch(str(data), "--out", str(out)))
    assert "already exists: add --overwrite" in message and out.read_bytes() == b"precious"
    code, _, err = run(capsys, *batch(str(data), "--out", str(out), "--overwrite"))
    assert code == 0, err
    assert list(pd.read_parquet(out)["response"]) == [f"gene{i:04d}" for i in range(4)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "out.parquet"]  # no temporary files left


def test_symlinked_output_is_replaced_not_followed(capsys, data, tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("keep me\n")
    out = tmp_path / "out.csv"
    out.symlink_to(elsewhere)
    code, _, err = run(capsys, *batch(str(data), "--out", str(out), "--overwrite"))
    assert code == 0, err
    assert not out.is_symlink() and elsewhere.read_text() == "keep me\n"


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("old\n")

    class Unwritable(pd.DataFrame):
        def to_csv(self, *args, **kwargs):  # type: ignore[override]
            raise OSError("disk full")

    with pytest.raises(Exception, match="disk full"):
        write_table(Unwritable({"a": [1]}), out)
    assert out.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_resume_fits_only_the_missing_responses(capsys, data, tmp_path):
    out = tmp_path / "out.csv"
    code, _, _ = run(capsys, "batch", str(data), FORMULA, "--responses", "gene0000,gene0002", "--out", str(out),
                     "--no-progress")
    assert code == 0
    first = pd.read_csv(out)
    code, text, err = run(capsys, *batch(str(data), "--out", str(out), "--resume"))
    assert code == 0, err
    assert "2 fits of" in text and "(2 kept from the earlier run)" in text
    table = pd.read_csv(out)
    assert list(table["response"]) == [f"gene{i:04d}" for i in range(4)]
    pd.testing.assert_frame_equal(table.iloc[[0, 2]].reset_index(drop=True), first)
    code, text, _ = run(capsys, *batch(str(data), "--out", str(out), "--resume"))
    assert code == 0 and "Nothing to fit" in text


def test_resume_of_another_batch_is_refused(capsys, data, tmp_path):
    """A Parquet output records its formula and method; resuming it with others is refused."""
    out = tmp_path / "out.parquet"
    assert run(capsys, *batch(str(data), "--out", str(out)))[0] == 0
    assert "holds results for formula" in one_line_error(
        capsys, "batch", str(data), "y ~ Days + (1 | Subject)", "--responses", "gene*", "--out", str(out),
        "--resume", "--no-progress")
    assert "holds results for reml" in one_line_error(capsys, *batch(str(data), "--out", str(out), "--resume",
                                                                     "--ml"))


def test_a_journal_is_not_discarded_silently(capsys, data, tmp_path):
    out = tmp_path / "out.parquet"
    journal = journal_path(out)
    journal.write_text('{"format": "lmmdx-batch-journal/1", "formula": "y ~ Days + (Days | Subject)", '
                       '"reml": "true", "key": "response"}\n'
                       '{"response": "gene0001", "nobs": 180, "error": null, "sigma": 1.0}\n{"resp')
    assert "add --resume" in one_line_error(capsys, *batch(str(data), "--out", str(out)))
    code, _, err = run(capsys, *batch(str(data), "--out", str(out), "--resume"))
    assert code == 0, err
    table = pd.read_parquet(out)
    assert list(table["response"]) == [f"gene{i:04d}" for i in range(4)]
    assert table.set_index("response").loc["gene0001", "sigma"] == 1.0  # kept, not refitted
    assert not journal.exists()


def test_by_where_every_fit_fails_exits_non_zero(capsys, tmp_path):
    out = tmp_path / "by.csv"
    message = one_line_error(capsys, "batch", str(DATA / "sleepstudy.csv"), "Reaction ~ Days + (1 | Subject)",
                             "--by", "Subject", "--out", str(out), "--no-progress")
    assert "all 18 fits failed" in message and "only one level" in message
    assert len(pd.read_csv(out)) == 18  # the errors are kept


@pytest.mark.parametrize(("patterns", "message"), [
    ("*", "--responses '*' matches 'Days', which the formula uses on its right-hand side"),
    ("gene0001,Days", "--responses names 'Days', which the formula uses"),
    ("Subj*", "matches 'Subject'"),
])
def test_patterns_matching_covariates_are_refused(capsys, data, tmp_path, patterns, message):
    code, _out, err = run(capsys, "batch", str(data), FORMULA, "--responses", patterns, "--out",
                         str(tmp_path / "o.csv"), "--no-progress")
    assert code == 2 and message in err and "__lmmdx" not in err


def test_repeated_patterns_fit_each_response_once(capsys, data, tmp_path):
    out = tmp_path / "o.csv"
    patterns = ",".join(["gene*"] * 2000 + ["gene0001"])
    code, _, err = run(capsys, "batch", str(data), FORMULA, "--responses", patterns, "--out", str(out),
                       "--no-progress")
    assert code == 0, err
    assert list(pd.read_csv(out)["response"]) == [f"gene{i:04d}" for i in range(4)]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_keeps_finished_fits_leaves_no_worker_and_resume_completes(tmp_path):
    """A batch of 600 responses on 2 workers is stopped by SIGTERM once some fits are saved."""
    data = tmp_path / "wide.csv"
    wide_frame(600).to_csv(data, index=False)
    out = tmp_path / "results.parquet"
    command = [sys.executable, "-m", "lmmdx.cli.main", "batch", str(data), FORMULA, "--responses", "gene*",
               "--out", str(out), "--workers", "2", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = journal_path(out)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and journal.read_text().count("\n") > 1:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    message = err.decode().strip().splitlines()
    assert len(message) == 1 and message[0].startswith("lmmdx: interrupted by SIGTERM after"), err
    assert "--resume" in message[0]
    for pid in workers:
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"worker {pid} outlived its parent")
    finished = pd.read_parquet(out)
    assert 0 < len(finished) < 600 and finished["response"].is_unique and finished["error"].isna().all()
    resumed = subprocess.run([*command, "--resume"], capture_output=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr == b""
    table = pd.read_parquet(out)
    assert list(table["response"]) == [f"gene{i:04d}" for i in range(600)]
    kept = table.set_index("response").loc[finished["response"]]
    np.testing.assert_array_equal(kept["objective"].to_numpy(), finished["objective"].to_numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.parquet", "wide.csv"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_parent(tmp_path):
    """SIGKILL cannot be caught: the workers' parent-death signal and watchdog end them."""
    data = tmp_path / "wide.csv"
    wide_frame(400).to_csv(data, index=False)
    out = tmp_path / "results.csv"
    process = subprocess.Popen([sys.executable, "-m", "lmmdx.cli.main", "batch", str(data), FORMULA, "--responses",
                                "gene*", "--out", str(out), "--workers", "2", "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    workers: list[int] = []
    while time.monotonic() < deadline and process.poll() is None and len(workers) < 2:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert len(workers) == 2
    process.kill()
    process.wait(30)
    for pid in workers:
        for _ in range(200):
            if not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"worker {pid} outlived its killed parent")
