"""Time the inference of issue 5 on sleepstudy, ``Reaction ~ Days + (Days | Subject)``.

Run: .venv/bin/python bench/inference_speed.py [--repeat 5] [--nsim 1000]

Targets (issue 5): profile intervals for all parameters in under 2 s; 1000
parametric-bootstrap refits in under 20 s on 2 cores. Also timed: the Satterthwaite
table (what ``summary()`` adds), Kenward–Roger, and the type III ANOVA. Medians of
``--repeat`` runs after a warm-up; the machine's load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import pandas as pd
from _timing import median_time

import lmmdx

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--nsim", type=int, default=1000)
    args = parser.parse_args()
    data = pd.read_csv(ROOT / "tests" / "data" / "sleepstudy.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        fit = lmmdx.fit("Reaction ~ Days + (Days | Subject)", data)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    rows = [
        ("Satterthwaite df, every coefficient", median_time(lambda: fit.coef_tests(), args.repeat), None),
        ("Kenward-Roger df, every coefficient", median_time(lambda: fit.coef_tests("kenward-roger"), args.repeat),
         None),
        ("type III ANOVA", median_time(lambda: fit.anova(), args.repeat), None),
        ("profile intervals, all 6 parameters", median_time(lambda: fit.confint("profile"), args.repeat), 2.0),
    ]
    for workers in (1, 2):
        seconds = median_time(lambda w=workers: fit.confint("bootstrap", nsim=args.nsim, seed=1, workers=w),
                              max(1, args.repeat // 2))
        rows.append((f"{args.nsim} bootstrap refits, {workers} worker(s)", seconds, 20.0 if workers == 2 else None))
    width = max(len(r[0]) for r in rows)
    for name, seconds, target in rows:
        verdict = "" if target is None else f"  (target < {target:g} s: {'met' if seconds < target else 'MISSED'})"
        print(f"{name:<{width}}  {seconds:8.3f} s{verdict}")


if __name__ == "__main__":
    main()
