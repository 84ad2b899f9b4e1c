"""Time the diagnosis, and the multi-optimiser check serial, in threads and in processes.

Run: .venv/bin/python bench/diagnose_speed.py [--repeat 7] [--skip-large] [--insteval]

For each model: the median wall time of ``fit.diagnose()`` after a warm-up, and of
the refits of the multi-optimiser check run serially, in a thread pool and in a
process pool (fork, 2 workers), which is what decided the parallel policy in
``lmmdx/diagnose/agreement.py``. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import median_time

import lmmdx
from lmmdx.diagnose.agreement import _eval_seconds, _jobs
from lmmdx.engine import OPTIMIZERS
from lmmdx.fitting import fit_model

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CASES = [
    ("seed_example.csv", "y ~ x + (x | group)"),
    ("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
    ("Penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)"),
]
_FIT: dict[str, lmmdx.Fit] = {}


def _large() -> pd.DataFrame:
    rng = np.random.default_rng(20261125)
    g = np.repeat(np.arange(2000), 50)
    x = rng.normal(size=g.size)
    y = 1.0 + 2.0 * x + rng.normal(size=2000)[g] + 0.5 * rng.normal(size=2000)[g] * x + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def _refit(job: tuple[str, np.ndarray]) -> float:
    fit = _FIT["current"]
    return fit_model(fit.model, fit.reml, optimizer=job[0], start=job[1]).objective


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--insteval", action="store_true", help="also time InstEval (minutes)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cases = [(name, formula, pd.read_csv(DATA / name)) for name, formula in CASES]
    if not args.skip_large:
        cases.append(("2000 x 50 simulated", "y ~ x + (x | g)", _large()))
    if args.insteval:
        cases.append(("InstEval.csv", "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
                      pd.read_csv(DATA / "InstEval.csv")))
    print(f"{'model':<56} {'eval ms':>8} {'diagnose s':>10} {'refits serial':>13} {'threads':>8} "
          f"{'processes':>9}")
    for name, formula, frame in cases:
        fit = lmmdx.fit(formula, frame)
        _FIT["current"] = fit
        repeat = args.repeat if "InstEval" not in name else 1
        total = median_time(fit.diagnose, repeat)
        cost = _eval_seconds(fit)
        jobs = [(j.optimizer, j.start) for j in _jobs(fit, tuple(OPTIMIZERS), cost)]
        serial = median_time(lambda jobs=jobs: [_refit(j) for j in jobs], repeat)
        workers = min(2, os.cpu_count() or 1)

        def threads(jobs=jobs, workers=workers) -> None:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(_refit, jobs))

        def processes(jobs=jobs, workers=workers) -> None:
            with ProcessPoolExecutor(workers) as pool:
                list(pool.map(_refit, jobs))

        print(f"{name + ': ' + formula:<56} {cost * 1e3:>8.3f} {total:>10.3f} {serial:>13.3f} "
              f"{median_time(threads, repeat):>8.3f} {median_time(processes, repeat):>9.3f}", flush=True)


if __name__ == "__main__":
    main()
