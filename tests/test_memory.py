"""Memory: work that would not fit is refused before it is allocated, with the estimate and
what is available; a MemoryError anywhere is one line and exit code 2 (issue 12).

The must-show (``ulimit -v 2000000; lmmdx fit big.csv "y ~ x + (x|g)"`` on 2M rows) is
too heavy for the suite; it is reproduced by bench/memory_limit.py. Here the limit is
simulated by patching what the machine reports as available.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import DATA
from support import run_cli as run

from lmmdx import memory
from lmmdx.engine.crossprod import cross_products_bytes
from lmmdx.errors import ResourceError

SLEEP = str(DATA / "sleepstudy.csv")
FORMULA = "Reaction ~ Days + (Days | Subject)"


def test_available_memory_is_known_on_linux():
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    available = memory.available_bytes()
    assert available is not None and available > 0


def test_format_never_uses_exponents():
    assert memory.format_gb(0.62e9) == "0.62 GB"
    assert memory.format_gb(25.4e9) == "25 GB"
    assert memory.format_gb(1.44e18) == "1,440,000,000 GB"
    assert memory.format_gb(3.1e6) == "0.0031 GB"


def test_estimate_grows_with_rows_columns_and_levels():
    base = cross_products_bytes(1_000_000, 2, [2], [1000])
    assert cross_products_bytes(2_000_000, 2, [2], [1000]) == pytest.approx(2 * base, rel=1e-6)
    assert cross_products_bytes(1_000_000, 20, [2], [1000]) > 2 * base
    crossed = cross_products_bytes(1_000_000, 2, [1, 1], [2000, 20_000])
    assert crossed > 24.0 * 20_000**2


def test_fit_refused_before_allocating(capsys, monkeypatch):
    """sleepstudy's estimate is below the floor; with the floor at 0 it is compared as a large one is."""
    monkeypatch.setattr(memory, "CHECK_FLOOR", 0)
    monkeypatch.setattr(memory, "available_bytes", lambda: 10_000)
    code, out, err = run(capsys, "fit", SLEEP, FORMULA)
    assert code == 2 and out == ""
    assert err.startswith("lmmdx: error: this model needs about 0.0")
    assert "GB for the cross-products of 180 rows × 5 columns; the machine has 0.0001 GB available: use fewer rows" in err
    assert len(err.strip().splitlines()) == 1


def test_memory_error_anywhere_is_one_line(capsys, monkeypatch):
    import lmmdx.model

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 61.0 MiB for an array with shape (2000000, 2, 2) and data type float64")

    monkeypatch.setattr(lmmdx.model, "cross_products", exhausted)
    code, out, err = run(capsys, "fit", SLEEP, FORMULA)
    assert code == 2 and out == ""
    assert err.startswith("lmmdx: error: out of memory fitting the model (an array of 61.0 MiB of shape "
                          "(2000000, 2, 2) could not be allocated); the machine has ")
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err


def test_small_estimates_do_not_ask_the_system(monkeypatch):
    """Below the floor nothing is read from /proc (the answer could not matter); from it on, it is."""
    asked = []
    monkeypatch.setattr(memory, "available_bytes", lambda: asked.append(1) or 10)
    memory.require(memory.CHECK_FLOOR - 1, "anything")
    assert asked == []
    with pytest.raises(ResourceError, match="needs about 0.02 GB for anything"):
        memory.require(memory.CHECK_FLOOR, "anything")
    assert asked == [1]
    estimate = cross_products_bytes(180, 2, [2], [18])  # sleepstudy
    assert 0 < estimate < memory.CHECK_FLOOR / 100


def test_require_passes_when_memory_is_unknown(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    memory.require(1e30, "anything")
    monkeypatch.setattr(memory, "available_bytes", lambda: 10)
    with pytest.raises(ResourceError, match="needs about 1,000,000,000,000,000,000,000 GB for anything"):
        memory.require(1e30, "anything")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS")
def test_a_real_address_space_limit_is_reported_not_crashed():
    """Under ``ulimit -v`` (a little above what the interpreter needs), 1,000,000 simulated
    responses of sleepstudy (1.4 GB) are refused with the estimate."""
    script = (
        "import resource, numpy as np, pandas as pd, lmmdx\n"
        f"fit = lmmdx.fit({FORMULA!r}, pd.read_csv({SLEEP!r}))\n"
        "used = int([l for l in open('/proc/self/status') if l.startswith('VmSize')][0].split()[1]) * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (used + 300 * 2**20, resource.RLIM_INFINITY))\n"
        "try:\n"
        "    fit.simulate(1_000_000)\n"
        "except lmmdx.LmmdxError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "needs about 1.4 GB for 1,000,000 simulated responses of 180 observations" in result.stdout
