"""Issue 12's memory must-show: a 2,000,000-row fit under ``ulimit -v 2000000`` exits 2 with the
estimate, and the same data fit without the limit; the 1,000,000-column CSV with 200 rows is
read in its three columns.

Run: .venv/bin/python bench/memory_limit.py [--rows 2000000] [--folder /tmp]
(writes big.csv, about 90 MB, and wide_header.csv, about 400 MB, into the folder).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

LMMDX = [sys.executable, "-m", "lmmdx.cli.main"]


def _limited(limit_kb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit_kb * 1024, resource.RLIM_INFINITY))


def _run(command: list[str], limit_kb: int | None = None) -> tuple[int, str, float, float]:
    start = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command] if Path("/usr/bin/time").exists() else command,
        capture_output=True, text=True, check=False,
        preexec_fn=(lambda: _limited(limit_kb)) if limit_kb else None,
    )
    seconds = time.perf_counter() - start
    lines = result.stderr.strip().splitlines()
    peak = float(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    message = "\n".join(lines[:-1] if lines and lines[-1].isdigit() else lines)
    return result.returncode, message, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    big = args.folder / "big.csv"
    if not big.exists():
        rng = np.random.default_rng(2)
        g = rng.integers(0, 2000, args.rows)
        x = rng.normal(size=args.rows)
        y = 1 + 2 * x + rng.normal(size=2000)[g] + 0.5 * rng.normal(size=2000)[g] * x + rng.normal(size=args.rows)
        pd.DataFrame({"y": y, "x": x, "g": np.char.add("s", g.astype(str))}).to_csv(big, index=False)
    command = [*LMMDX, "fit", str(big), "y ~ x + (x|g)", "--ddf", "none"]
    code, message, seconds, _ = _run(command, 2_000_000)
    print(f"ulimit -v 2000000: exit {code} after {seconds:.1f} s: {message}")
    code, message, seconds, peak = _run(command)
    print(f"no limit: exit {code} after {seconds:.1f} s, peak RSS {peak:.0f} MB {message}")
    wide = args.folder / "wide_header.csv"
    if not wide.exists():
        rng = np.random.default_rng(0)
        rest = ",".join(["1"] * (1_000_000 - 3))
        with open(wide, "w") as handle:
            handle.write("y,x,g," + ",".join(f"v{i}" for i in range(1_000_000 - 3)) + "\n")
            handle.writelines(f"{rng.normal():.4f},{rng.normal():.4f},g{i % 10},{rest}\n" for i in range(200))
    code, message, seconds, peak = _run([*LMMDX, "fit", str(wide), "y ~ x + (1|g)", "--json"])
    print(f"1,000,000-column header, 200 rows: exit {code} after {seconds:.1f} s, peak RSS {peak:.0f} MB {message}")


if __name__ == "__main__":
    main()
