"""Type I error and power of the recommended remedy, beside the maximal model's and every candidate's.

Run: .venv/bin/python bench/remedy_calibration.py [--reps 2000] [--dists normal uniform] [--slopes 0 0.25]
                                                  [--design seed|draw] [--workers N] [--seed S] [--groups G]

The seed design (``tests/data/seed_example.csv``: 8 groups × 20 observations and its
covariate x, a draw from N(0, 1)). ``normal`` keeps the seed's x; ``uniform`` uses
10 Φ(x), a U(0, 10) covariate with the same ranks. The type I error of a test is a
property of the design it is used on (regression inference is conditional on X), so
by default the design is held fixed; ``--design draw`` draws a fresh covariate for
every data set instead (N(0, 1) or U(0, 10)), averaging over designs. Responses are
drawn from

    y = β₀ + β₁ x + u₀[g] + u₁[g] x + ε,   u₀ ~ N(0, 1.4²), u₁ ~ N(0, 0.05²), ε ~ N(0, 1)

with β₀ = 2.3 and the true slope β₁ given by ``--slopes`` (0 for the type I error,
0.25 for power; the intercept SD, σ and β₀ are the seed example's estimates rounded,
the slope SD is the seed's true 0.05). Each data set is fitted with
``y ~ x + (x | group)`` by REML, then ``remedies(fit, ["x"], thorough=False)`` is run
(the penalised fit from one start with one optimiser, the diagnoses without their
multi-optimiser check) and every candidate's two-sided Satterthwaite t test of x at
0.05 is recorded, with the recommended candidate's. Rates come with 95% Clopper–Pearson
intervals (R's ``binom.test``). ``--groups G`` keeps only the first G groups (e.g. 4,
where the recommendation switches to the cluster-robust fit).

Every data set has its own random stream (numpy's ``SeedSequence.spawn``), so the
results do not depend on the number of workers or the order in which they finish.
Run a small ``--reps`` first: the run prints its rate (data sets per second) and an
estimate of the time left as it goes. Not part of CI (the recommendation logic is
tested on hand-built cases in ``tests/remedy/test_recommend.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from lmmdx.remedy.result import STRATEGIES

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "seed_example.csv"
FORMULA = "y ~ x + (x | group)"
TRUTH = {"beta0": 2.3, "sd_intercept": 1.4, "sd_slope": 0.05, "sigma": 1.0}
ALPHA = 0.05
#: The covariate distributions: name -> (description, seed's x made to follow it, draw(rng, n)).
DISTRIBUTIONS = {
    "normal": ("x ~ N(0, 1)", lambda x: x, lambda rng, n: rng.normal(0.0, 1.0, n)),
    "uniform": ("x ~ U(0, 10)", lambda x: 10.0 * stats.norm.cdf(x), lambda rng, n: rng.uniform(0.0, 10.0, n)),
}
RECOMMENDED = "recommended"

_STATE: dict[str, object] = {}


def _init(groups: int | None, design: str) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = pd.read_csv(DATA)
    if groups is not None:
        data = data[data["group"].isin(sorted(data["group"].unique())[:groups])]
    _STATE["group"] = data["group"].astype(str).to_numpy()
    _STATE["x"] = data["x"].to_numpy(dtype=np.float64)
    _STATE["design"] = design


@dataclass(frozen=True)
class Row:
    """One data set: its cell, the recommended model, and (p-value, singular, CI covers) per candidate."""

    dist: str
    slope: float
    selected: str
    formula: str
    results: dict[str, tuple[float, bool, bool]]


def _one(task: tuple[str, float, np.random.SeedSequence]) -> Row:
    import lmmdx
    from lmmdx.remedy import remedies

    dist, slope, seed = task
    rng = np.random.default_rng(seed)
    group = _STATE["group"]
    assert isinstance(group, np.ndarray)
    levels, codes = np.unique(group, return_inverse=True)
    _, fixed, draw = DISTRIBUTIONS[dist]
    x = fixed(_STATE["x"]) if _STATE["design"] == "seed" else draw(rng, group.size)
    u0 = rng.normal(0.0, TRUTH["sd_intercept"], levels.size)
    u1 = rng.normal(0.0, TRUTH["sd_slope"], levels.size)
    y = TRUTH["beta0"] + slope * x + u0[codes] + u1[codes] * x + rng.normal(0.0, TRUTH["sigma"], x.size)
    frame = pd.DataFrame({"y": y, "x": x, "group": group})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit(FORMULA, frame)
        report = remedies(fit, ["x"], workers=1, thorough=False)
    results: dict[str, tuple[float, bool, bool]] = {}
    for c in report.candidates:
        e = c.effect("x")
        covers = bool(e.ci_lower <= slope <= e.ci_upper) if e.estimable else False
        results[c.name] = (float(e.p_value), bool(c.singular), covers)
    results[RECOMMENDED] = results[report.selected]
    formula = report.selected_candidate.formula if report.selected != "cluster_robust" else "cluster_robust"
    return Row(dist, slope, report.selected, formula, results)


def _interval(hits: int, n: int) -> tuple[float, float]:
    """95% Clopper–Pearson interval."""
    ci = stats.binomtest(hits, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def _rate(pvalues: list[float]) -> tuple[str, int, int]:
    valid = [p for p in pvalues if math.isfinite(p)]
    if not valid:
        return "-", 0, 0
    hits = sum(p < ALPHA for p in valid)
    low, high = _interval(hits, len(valid))
    return f"{hits / len(valid):.3f} [{low:.3f}, {high:.3f}]", hits, len(valid)


def _table(rows: list[Row], dist: str, slopes: list[float]) -> list[str]:
    names = [RECOMMENDED] + [n for n in STRATEGIES if n != "aic_selected"]
    header = ["candidate"]
    for s in slopes:
        header.append("type I error [95% CI]" if s == 0 else f"power at slope {s:g} [95% CI]")
    header += ["n", "singular", "CI covers slope"]
    table = []
    for name in names:
        line = [name]
        singular = covered = total = 0
        counts = []
        for slope in slopes:
            results = [
                r.results[name] for r in rows if r.dist == dist and r.slope == slope and name in r.results
            ]
            text, _, n = _rate([p for p, _, _ in results])
            line.append(text)
            counts.append(str(n))
            singular += sum(s for _, s, _ in results)
            covered += sum(c for _, _, c in results)
            total += len(results)
        line.append("/".join(counts))
        line += [f"{singular / total:.3f}" if total else "-", f"{covered / total:.3f}" if total else "-"]
        table.append(line)
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *table]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000, help="data sets per distribution and slope (2000)")
    parser.add_argument("--dists", nargs="+", choices=sorted(DISTRIBUTIONS), default=["normal", "uniform"])
    parser.add_argument("--slopes", type=float, nargs="+", default=[0.0, 0.25], help="true fixed slopes")
    parser.add_argument(
        "--design",
        choices=["seed", "draw"],
        default="seed",
        help="the seed's x (default) or a fresh x per data set",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--groups", type=int, default=None, help="keep only the first G groups of the design")
    args = parser.parse_args()

    # one independent stream per data set (numpy's SeedSequence.spawn), whatever the worker
    cells = [(d, s) for d in args.dists for s in args.slopes]
    streams = np.random.SeedSequence(args.seed).spawn(len(cells) * args.reps)
    tasks = [(d, s, streams[k * args.reps + i]) for k, (d, s) in enumerate(cells) for i in range(args.reps)]
    start = time.perf_counter()
    step = max(len(tasks) // 40, 1)
    rows: list[Row] = []
    with Pool(args.workers, initializer=_init, initargs=(args.groups, args.design)) as pool:
        for done, row in enumerate(pool.imap_unordered(_one, tasks, chunksize=4), start=1):
            rows.append(row)
            if done % step == 0 or done == len(tasks):
                spent = time.perf_counter() - start
                left = spent / done * (len(tasks) - done)
                print(
                    f"  {done}/{len(tasks)} data sets, {spent:.0f} s, {done / spent:.2f}/s, about {left:.0f} s left",
                    flush=True,
                )
    seconds = time.perf_counter() - start

    groups = args.groups or 8
    print(
        f"\nSeed design ({groups} groups x 20, {'the seed x' if args.design == 'seed' else 'x drawn per data set'}), "
        f"{FORMULA}, truth {TRUTH}; {args.reps} data sets per "
        f"distribution and slope, {len(tasks)} in {seconds:.0f} s on {args.workers} workers; "
        f"rejection of x at {ALPHA}, 95% Clopper-Pearson intervals"
    )
    for dist in args.dists:
        print(f"\n{DISTRIBUTIONS[dist][0]}")
        for line in _table(rows, dist, args.slopes):
            print("  " + line)
        for slope in args.slopes:
            chosen = Counter(r.formula for r in rows if r.dist == dist and r.slope == slope)
            shares = ", ".join(f"{k} {v / args.reps:.3f}" for k, v in chosen.most_common())
            print(f"  recommended at slope {slope:g}: {shares}")


if __name__ == "__main__":
    main()
