"""Type I error and power of each remedy strategy, and of the recommendation, on the seed design.

Run: .venv/bin/python bench/remedy_calibration.py [--reps 500] [--slopes 0 1] [--workers N] [--seed S]
                                                  [--groups G]

The seed design is kept (``tests/data/seed_example.csv``: the same x and 8 groups ×
20 observations) and responses are drawn from

    y = β₀ + β₁ x + u₀[g] + u₁[g] x + ε,   u₀ ~ N(0, 1.4²), u₁ ~ N(0, 0.05²), ε ~ N(0, 1)

with β₀ = 2.3 and the true slope β₁ given by ``--slopes`` (0 for the type I error,
1 for power; the intercept SD, σ and β₀ are the seed example's estimates rounded,
the slope SD is the seed's true 0.05). Each data set is fitted with
``y ~ x + (x | group)`` by REML, then ``remedies(fit, ["x"])`` is run (penalised fit
from one start with one optimiser, ``thorough=False``), and every candidate's
two-sided test of x at 0.05 is recorded, with the recommended candidate's.
``--groups G`` keeps only the first G groups of the design (e.g. 4, where the
recommendation switches to the cluster-robust fit). Replications run in a process
pool. Not part of CI.
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

from lmmdx.remedy.result import STRATEGIES

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "seed_example.csv"
FORMULA = "y ~ x + (x | group)"
TRUTH = {"beta0": 2.3, "sd_intercept": 1.4, "sd_slope": 0.05, "sigma": 1.0}
ALPHA = 0.05

_STATE: dict[str, object] = {}


def _init(groups: int | None) -> None:
    import lmmdx

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = pd.read_csv(DATA)
    if groups is not None:
        data = data[data["group"].isin(sorted(data["group"].unique())[:groups])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit(FORMULA, data)
    design = fit.model.design
    _STATE["model"] = fit.model
    _STATE["x"] = design.blocks[0].values[:, 1]
    _STATE["codes"] = design.blocks[0].factor.codes
    _STATE["nlevels"] = design.blocks[0].nlevels


def _one(task: tuple[float, np.random.SeedSequence]) -> dict[str, object]:
    from lmmdx.fitting import fit_model
    from lmmdx.remedy import remedies

    slope, seed = task
    rng = np.random.default_rng(seed)
    x, codes, levels = _STATE["x"], _STATE["codes"], _STATE["nlevels"]
    u0 = rng.normal(0.0, TRUTH["sd_intercept"], levels)
    u1 = rng.normal(0.0, TRUTH["sd_slope"], levels)
    y = TRUTH["beta0"] + slope * x + u0[codes] + u1[codes] * x + rng.normal(0.0, TRUTH["sigma"], x.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_model(_STATE["model"].with_response(y))
        report = remedies(fit, ["x"], workers=1, thorough=False)
    out: dict[str, object] = {
        "slope": slope,
        "selected": report.selected,
        "sensitivity": report.sensitivity.verdict,
    }
    for c in report.candidates:
        e = c.effect("x")
        out[c.name] = (e.p_value, c.singular, e.ci_lower <= slope <= e.ci_upper)
    e = report.selected_candidate.effect("x")
    out["recommendation"] = (e.p_value, report.selected_candidate.singular, e.ci_lower <= slope <= e.ci_upper)
    return out


def _rate(hits: int, n: int) -> str:
    if n == 0:
        return "-"
    p = hits / n
    return f"{p:.3f} ± {math.sqrt(p * (1 - p) / n):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500, help="data sets per slope (default 500)")
    parser.add_argument("--slopes", type=float, nargs="+", default=[0.0, 1.0], help="true fixed slopes")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--groups", type=int, default=None, help="keep only the first G groups of the design")
    args = parser.parse_args()

    # independent streams, one per data set (numpy's SeedSequence.spawn), whatever the worker
    streams = np.random.SeedSequence(args.seed).spawn(len(args.slopes) * args.reps)
    tasks = [(slope, streams[k * args.reps + i]) for k, slope in enumerate(args.slopes) for i in range(args.reps)]
    start = time.perf_counter()
    with Pool(args.workers, initializer=_init, initargs=(args.groups,)) as pool:
        rows = []
        for done, row in enumerate(pool.imap_unordered(_one, tasks, chunksize=4), start=1):
            rows.append(row)
            if done % 100 == 0:
                print(f"  {done}/{len(tasks)} data sets, {time.perf_counter() - start:.0f} s", flush=True)
    seconds = time.perf_counter() - start

    design = f"{args.groups} groups" if args.groups else "8 groups"
    print(
        f"\nSeed design ({design} x 20), truth {TRUTH}, {args.reps} data sets per slope, "
        f"{len(tasks)} in {seconds:.0f} s on {args.workers} workers\n"
    )
    names = [n for n in STRATEGIES if n != "aic_selected"] + ["recommendation"]
    header = ["strategy"] + [f"reject x (slope {s:g})" for s in args.slopes] + ["singular", "95% CI covers"]
    table = []
    for name in names:
        line = [name]
        singular = covered = total = 0
        for slope in args.slopes:
            results = [r[name] for r in rows if r["slope"] == slope and name in r]
            valid = [p for p, _, _ in results if math.isfinite(p)]
            line.append(_rate(sum(p < ALPHA for p in valid), len(valid)))
            singular += sum(s for _, s, _ in results)
            covered += sum(c for _, _, c in results)
            total += len(results)
        line += [f"{singular / total:.3f}" if total else "-", f"{covered / total:.3f}" if total else "-"]
        table.append(line)
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    for r in [header, *table]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print("\nRecommended candidate (share of data sets):")
    counts: dict[float, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r["slope"]][r["selected"]] += 1
    for slope, by_name in counts.items():
        shares = ", ".join(
            f"{k} {v / args.reps:.3f}" for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])
        )
        print(f"  slope {slope:g}: {shares}")
    for slope in args.slopes:
        sensitive = sum(r["sensitivity"] == "sensitive" for r in rows if r["slope"] == slope)
        print(
            f"  slope {slope:g}: sensitivity verdict 'sensitive' in {sensitive / args.reps:.3f} of data sets"
        )


if __name__ == "__main__":
    main()
