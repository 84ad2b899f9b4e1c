"""Batch fitting: 10,000 responses on sleepstudy's design and 1,000 on a 100,000-row design.

Run: .venv/bin/python bench/batch.py [--workers 2] [--sleep-responses 10000] [--large-responses 1000]

1. ``y ~ Days + (Days | Subject)`` on sleepstudy's design (180 rows, 18 subjects),
   10,000 responses simulated with an intercept SD of 25, a slope SD drawn
   uniformly in [0, 6] per response (so a share of fits is at the boundary), and
   residual SD 25. Target (issue 7): under 30 s on the 2 cores; one lme4 fit
   takes about 14 ms, so lme4 in a loop needs over 2 minutes.
2. ``y ~ x + (x | g)`` on 2,000 groups × 50 rows (100,000 rows), 1,000 responses.

Each prints the wall-clock time, the time per fit, the CPU time (this process and
its workers; divided by the workers, it is the wall time on idle cores) and the
aggregated summary. The machine is shared: the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd

import lmmdx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sleepstudy_responses(count: int, seed: int = 7) -> tuple[pd.DataFrame, list[str]]:
    """Sleepstudy's design with ``count`` simulated response columns."""
    frame = pd.read_csv(os.path.join(ROOT, "tests", "data", "sleepstudy.csv"))
    rng = np.random.default_rng(seed)
    subject = pd.factorize(frame["Subject"])[0]
    days = frame["Days"].to_numpy()
    intercepts = rng.normal(0.0, 25.0, (count, 18))
    slopes = rng.normal(0.0, 1.0, (count, 18)) * rng.uniform(0.0, 6.0, (count, 1))
    y = 250.0 + 10.0 * days + intercepts[:, subject] + slopes[:, subject] * days
    y += rng.normal(0.0, 25.0, (count, days.size))
    names = [f"y{i:05d}" for i in range(count)]
    responses = pd.DataFrame(y.T, columns=names)
    return pd.concat([frame, responses], axis=1), names


def large_responses(count: int, seed: int = 11) -> tuple[pd.DataFrame, list[str]]:
    """2,000 groups × 50 rows with ``count`` simulated responses of ``y ~ x + (x | g)``."""
    rng = np.random.default_rng(seed)
    groups, per = 2000, 50
    g = np.repeat(np.arange(groups), per)
    x = rng.normal(size=groups * per)
    names = [f"y{i:04d}" for i in range(count)]
    data = np.empty((groups * per, count))
    for j in range(count):  # one column at a time keeps the peak memory at the table itself
        b0 = rng.normal(0.0, 1.0, groups)
        b1 = rng.normal(0.0, rng.uniform(0.0, 0.2), groups)
        data[:, j] = 1.0 + 2.0 * x + b0[g] + b1[g] * x + rng.normal(size=x.size)
    frame = pd.DataFrame(data, columns=names)
    frame.insert(0, "g", g)
    frame.insert(0, "x", x)
    return frame, names


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(label: str, formula: str, data: pd.DataFrame, names: list[str], workers: int) -> None:
    cpu, start = _cpu_seconds(), time.perf_counter()
    result = lmmdx.fit_many(formula, data, responses=names, workers=workers)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    load = os.getloadavg()[0]
    print(f"{label}: {len(names):,} fits in {seconds:.1f} s wall with {workers} workers "
          f"({1000 * seconds / len(names):.2f} ms per fit; load average {load:.1f}); "
          f"{cpu:.1f} s CPU, i.e. {cpu / max(workers, 1):.1f} s on {workers} idle cores")
    print(result.summary.text())
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sleep-responses", type=int, default=10_000)
    parser.add_argument("--large-responses", type=int, default=1_000)
    args = parser.parse_args()
    if args.sleep_responses:
        data, names = sleepstudy_responses(args.sleep_responses)
        run("sleepstudy design", "y ~ Days + (Days | Subject)", data, names, args.workers)
    if args.large_responses:
        data, names = large_responses(args.large_responses)
        run("100,000-row design", "y ~ x + (x | g)", data, names, args.workers)


if __name__ == "__main__":
    main()
