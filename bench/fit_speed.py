"""Time lmmdx.fit on every lme4 reference case, a 100,000-row design and `lmmdx --help`.

Run: .venv/bin/python bench/fit_speed.py [--repeat N] [--skip-large]

Each case is timed in-process, end to end (formula, design, optimisation, results),
after one warm-up, as the median of several runs; lme4's own time (from the
reference file) and the figures from issue 3 are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import lmmdx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

#: Figures quoted in issue 3 for this 2-core machine (seconds).
QUOTED = {
    "sleepstudy_slope_reml": {"lme4": 0.014, "mixedlm": 0.0031, "target": 0.002},
    "insteval_crossed_reml": {"lme4": 19.5, "mixedlm": 3.8, "target": 1.0},
    "large_100k": {"lme4": 1.4},
}


def simulate_large(seed: int = 20261125) -> pd.DataFrame:
    """2,000 groups × 50 observations, y ~ x + (x | g), fixed seed."""
    rng = np.random.default_rng(seed)
    groups, per = 2000, 50
    g = np.repeat(np.arange(groups), per)
    x = rng.normal(size=groups * per)
    b0 = rng.normal(scale=1.0, size=groups)
    b1 = rng.normal(scale=0.5, size=groups)
    y = 1.0 + 2.0 * x + b0[g] + b1[g] * x + rng.normal(size=groups * per)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def time_fit(formula: str, data: pd.DataFrame, reml: bool, repeat: int) -> tuple[float, lmmdx.Fit]:
    lmmdx.fit(formula, data, reml=reml)  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = lmmdx.fit(formula, data, reml=reml)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="runs per small case (median taken)")
    parser.add_argument("--skip-large", action="store_true", help="skip InstEval and the 100k design")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    reference = json.loads((DATA / "lme4_reference.json").read_text())
    rows = []
    for key, case in reference.items():
        large = key.startswith("insteval")
        if large and args.skip_large:
            continue
        data = pd.read_csv(DATA / case["data"])
        seconds, result = time_fit(case["formula"], data, case["reml"], 3 if large else args.repeat)
        rows.append((key, seconds, case["seconds_lme4_default"], result.optimizer.nevals))
    if not args.skip_large:
        seconds, result = time_fit("y ~ x + (x | g)", simulate_large(), True, 3)
        rows.append(("large_100k", seconds, None, result.optimizer.nevals))
    print(f"{'case':28s} {'lmmdx':>10s} {'evals':>6s} {'lme4 (ref)':>11s} {'lme4 (issue)':>13s} "
          f"{'x faster':>9s} {'mixedlm':>9s} {'x faster':>9s} {'target':>8s}")
    for key, seconds, lme4_ref, nevals in rows:
        quoted = QUOTED.get(key, {})
        lme4_time = quoted.get("lme4", lme4_ref)
        mixed = quoted.get("mixedlm")
        target = quoted.get("target")
        ok = "" if target is None else ("ok" if seconds <= target else "MISSED")
        print(f"{key:28s} {seconds * 1e3:8.2f}ms {nevals:6d} "
              f"{(lme4_ref or float('nan')) * 1e3:9.1f}ms {(quoted.get('lme4') or float('nan')) * 1e3:11.1f}ms "
              f"{lme4_time / seconds:8.1f}x "
              + (f"{mixed * 1e3:7.1f}ms {mixed / seconds:8.1f}x " if mixed else f"{'':9s} {'':9s} ")
              + (f"{target * 1e3:6.0f}ms {ok}" if target else ""))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:.0f} MB")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lmmdx.cli.main", "--help"], capture_output=True, check=True)
    print(f"lmmdx --help: {time.perf_counter() - start:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
