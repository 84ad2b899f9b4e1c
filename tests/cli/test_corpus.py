"""The hostile-input corpus (issue 12): every input gets a fit or one line that says what to do.

Each case of :mod:`corpus_cases` (files, data, formulas, arguments, batches; 200 inputs) runs
through the command line in its own process, in its own folder, with a limit of 20 s of CPU
time, and must:

* exit with 0, 1 or 2 (and with the case's own code when it names one);
* leave stderr empty or write exactly one line, starting with ``lmmdx:`` (never "internal
  error", never a traceback, never a Python or numpy warning);
* print valid JSON on stdout with ``--json`` when it exits with 0 or 1;
* pass the case's own check (e.g. the input is unchanged, no file was created by a formula).

The process is forked from the test process with lmmdx already imported (an interpreter start
per case would cost more than most cases), then runs ``lmmdx.cli.main.main`` with its own file
descriptors 0, 1, 2 — what it writes to them, from Python or C, is what the test reads. A few
cases also run as real ``python -m lmmdx.cli.main`` processes to show the two agree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus_cases import CASES, Case

# Imported before forking, so that the children start warm (the command line imports them lazily).
import lmmdx.cli.io
import lmmdx.cli.main
import lmmdx.cli.output
import lmmdx.diagnose
import lmmdx.fitting
import lmmdx.inference.anova
import lmmdx.inference.ddf
import lmmdx.inference.intervals
import lmmdx.remedy
import lmmdx.report.payload
import lmmdx.report.text  # noqa: F401

#: Per-case limit of the issue (seconds of CPU time of the case's process and the workers it has
#: reaped, diagnose budgets included): measured as CPU time, not elapsed time, so that a case is
#: not failed because other processes load the machine; a busy loop reaches it as fast as ever.
TIMEOUT = 20.0
#: Elapsed-time backstop for a case that waits without computing (a deadlock).
WALL_LIMIT = 180.0
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _materialise(case: Case, folder: Path) -> list[str]:
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    paths = {f"{{{name.split('/')[0]}}}": str(folder / name.split("/")[0]) for name in case.files}
    argv = []
    for arg in case.argv:
        argv.append(paths.get(arg, arg))
    return argv


def _child(argv: list[str], folder: Path, stdin: Path, out: Path, err: Path) -> None:
    """In the forked process: become a fresh command-line run, then exit with its code."""
    code = 99
    try:
        os.setsid()
        os.chdir(folder)
        for fd, path, mode in ((0, stdin, os.O_RDONLY), (1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                               (2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            handle = os.open(path, mode, 0o600)
            os.dup2(handle, fd)
            os.close(handle)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process ends below
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        for name in ("SIGTERM", "SIGHUP", "SIGINT", "SIGALRM"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        import warnings

        warnings.resetwarnings()  # the command line's own silencing is under test, not pytest's filters
        from lmmdx.cli.main import main

        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - report anything, then leave without pytest's cleanup
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _cpu_seconds(pid: int) -> float:
    """User + system time of process ``pid`` and of its reaped children (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / _TICK


def run_forked(case: Case, folder: Path, timeout: float = TIMEOUT) -> tuple[int | None, str, str]:
    """Exit code (None when over the limit), stdout and stderr of the case run in a forked process."""
    argv = _materialise(case, folder)
    stdin, out, err = folder / ".stdin", folder / ".stdout", folder / ".stderr"
    stdin.write_bytes(case.stdin or b"")
    pid = os.fork()
    if pid == 0:
        _child(argv, folder, stdin, out, err)
    deadline = time.monotonic() + WALL_LIMIT
    status = None
    while time.monotonic() < deadline and _cpu_seconds(pid) < timeout:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = None
    code = None if status is None else os.waitstatus_to_exitcode(status)
    return code, out.read_text(errors="replace"), err.read_text(errors="replace")


def check(case: Case, code: int | None, out: str, err: str, folder: Path) -> None:
    assert code is not None, f"no answer within {TIMEOUT:.0f} s of CPU time (or {WALL_LIMIT:.0f} s elapsed)"
    lines = err.splitlines()
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert len(lines) <= 1, f"stderr has {len(lines)} lines:\n{err}"
    assert not lines or lines[0].startswith("lmmdx:"), err
    assert code in (0, 1, 2), f"exit code {code}: {err}"
    assert code in case.codes, f"exit code {code}, expected {case.codes}: {err}"
    if case.message is not None:
        assert lines and case.message in lines[0], f"expected {case.message!r} in stderr: {err!r}"
    if code == 2:
        assert lines, "exit code 2 without a message"
    if "--json" in case.argv and code in (0, 1):
        json.loads(out)
    if case.check is not None:
        complaint = case.check(folder)
        assert complaint is None, complaint


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a process per case")
@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_corpus(case: Case, tmp_path: Path) -> None:
    code, out, err = run_forked(case, tmp_path)
    check(case, code, out, err, tmp_path)


def test_corpus_is_large_and_covers_every_class() -> None:
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 150 and kinds == {"file", "data", "formula", "args", "batch"}
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name", ["file-latin1", "data-exact-slope", "data-exact-diagnose-slope", "file-stdin",
                                  "formula-deep-parentheses", "args-level-1.5"])
def test_a_real_process_agrees(name: str, tmp_path: Path) -> None:
    """The same cases as separate interpreters (``python -m lmmdx.cli.main``)."""
    case = next(c for c in CASES if c.id == name)
    argv = _materialise(case, tmp_path)
    result = subprocess.run([sys.executable, "-m", "lmmdx.cli.main", *argv], input=case.stdin or b"",
                            capture_output=True, timeout=120, cwd=tmp_path, check=False)
    check(case, result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace"),
          tmp_path)
