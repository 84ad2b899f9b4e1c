"""Coverage of 95% intervals (Wald with Satterthwaite df, profile, parametric bootstrap).

Run: .venv/bin/python bench/coverage.py [--reps 500] [--nboot 200] [--workers 2] [--design seed|wellposed|both]

Two designs, each simulated ``--reps`` times from known true values:

* ``seed``: the seed example's design (tests/data/seed_example.csv: 8 groups x 20,
  its x values), ``y ~ x + (x | group)`` with the true random-slope SD 0.05 of the
  write-up; β, the intercept SD and σ are the seed example's REML estimates, and the
  true correlation is 0 (the fitted ±1 is the artefact the write-up is about);
* ``wellposed``: 40 groups x 12, x ~ N(0, 1) drawn once, β = (2, 1), intercept SD 1,
  slope SD 0.5, correlation 0.3, σ = 1.

For every data set the model is fitted by REML and the three kinds of interval are
computed for the fixed slope, both SDs, the correlation and σ; the table gives the
share of intervals that contain the true value, the share of singular fits, and
the Monte-Carlo standard error of a 95% coverage (sqrt(.95 .05 / reps)).
Not part of CI: about 1 s per data set with 200 bootstrap samples.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import lmmdx
from lmmdx.fitting import fit_model

ROOT = Path(__file__).resolve().parents[1]
PARAMETERS = ("x", "sd_(Intercept)|group", "sd_x|group", "cor_x.(Intercept)|group", "sigma")
METHODS = ("wald", "profile", "bootstrap")


def seed_design() -> tuple[pd.DataFrame, dict[str, float]]:
    """The seed example's rows, and true values from its fit (slope SD 0.05, correlation 0)."""
    data = pd.read_csv(ROOT / "tests" / "data" / "seed_example.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        fit = lmmdx.fit("y ~ x + (x | group)", data)
    truth = {"(Intercept)": float(fit.beta[0]), "x": float(fit.beta[1]),
             "sd_(Intercept)|group": float(fit.random_effects[0].sd), "sd_x|group": 0.05,
             "cor_x.(Intercept)|group": 0.0, "sigma": float(fit.sigma)}
    return data, truth


def wellposed_design() -> tuple[pd.DataFrame, dict[str, float]]:
    """40 groups x 12 observations with a clearly non-zero slope variance."""
    rng = np.random.default_rng(20260124)
    groups, per = 40, 12
    data = pd.DataFrame({"group": np.repeat([f"g{i:02d}" for i in range(groups)], per),
                         "x": rng.normal(size=groups * per), "y": 0.0})
    truth = {"(Intercept)": 2.0, "x": 1.0, "sd_(Intercept)|group": 1.0, "sd_x|group": 0.5,
             "cor_x.(Intercept)|group": 0.3, "sigma": 1.0}
    return data, truth


def simulate(data: pd.DataFrame, truth: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """One response from the true model, in the data's row order."""
    codes, levels = pd.factorize(data["group"], sort=True)
    s0, s1, rho = truth["sd_(Intercept)|group"], truth["sd_x|group"], truth["cor_x.(Intercept)|group"]
    cov = np.array([[s0 * s0, rho * s0 * s1], [rho * s0 * s1, s1 * s1]])
    b = rng.multivariate_normal(np.zeros(2), cov, size=len(levels))
    x = data["x"].to_numpy(float)
    mean = truth["(Intercept)"] + truth["x"] * x + b[codes, 0] + b[codes, 1] * x
    return mean + truth["sigma"] * rng.standard_normal(x.size)


_STATE: dict = {}


def _init(design: str, nboot: int) -> None:
    data, truth = seed_design() if design == "seed" else wellposed_design()
    data = data.assign(y=simulate(data, truth, np.random.default_rng(0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        base = lmmdx.fit("y ~ x + (x | group)", data)
    _STATE.update(data=data, truth=truth, model=base.model, nboot=nboot)


def one_replicate(seed: int) -> dict[str, object]:
    """Covered (True/False/None for no interval) per (parameter, method), and whether the fit is singular."""
    rng = np.random.default_rng(seed)
    truth, model = _STATE["truth"], _STATE["model"]
    y = simulate(_STATE["data"], truth, rng)
    out: dict[str, object] = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_model(model.with_response(y), reml=True)
        out["singular"] = fit.singular
        for method in METHODS:
            try:
                intervals = fit.confint(method, nsim=_STATE["nboot"], seed=seed)
            except lmmdx.LmmdxError:
                intervals = None
            for name in PARAMETERS:
                cell = None
                if intervals is not None:
                    iv = intervals[name]
                    if np.isfinite(iv.lower) and np.isfinite(iv.upper):
                        cell = bool(iv.lower <= truth[name] <= iv.upper)
                out[f"{name}/{method}"] = cell
    return out


def run(design: str, reps: int, nboot: int, workers: int) -> pd.DataFrame:
    seeds = list(np.random.SeedSequence(20261125).generate_state(reps))
    start = time.perf_counter()
    rows = []
    if workers <= 1:
        _init(design, nboot)
        for i, s in enumerate(seeds):
            rows.append(one_replicate(int(s)))
            if (i + 1) % 50 == 0:
                print(f"  {design}: {i + 1}/{reps} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    else:
        with ProcessPoolExecutor(workers, initializer=_init, initargs=(design, nboot)) as pool:
            for i, row in enumerate(pool.map(one_replicate, [int(s) for s in seeds], chunksize=4)):
                rows.append(row)
                if (i + 1) % 50 == 0:
                    print(f"  {design}: {i + 1}/{reps} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    frame = pd.DataFrame(rows)
    table = {}
    for name in PARAMETERS:
        table[name] = {}
        for method in METHODS:
            cells = frame[f"{name}/{method}"]
            given = cells.dropna()
            text = f"{given.astype(float).mean():.3f}" if len(given) else "  -  "
            if len(given) < len(cells):
                text += f" ({len(cells) - len(given)} n/a)"
            table[name][method] = text
    result = pd.DataFrame(table).T
    result.attrs["singular"] = float(frame["singular"].mean())
    result.attrs["seconds"] = time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500, help="simulated data sets per design (default 500)")
    parser.add_argument("--nboot", type=int, default=200, help="bootstrap samples per data set (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--design", choices=["seed", "wellposed", "both"], default="both")
    args = parser.parse_args()
    designs = ["seed", "wellposed"] if args.design == "both" else [args.design]
    mc = np.sqrt(0.95 * 0.05 / args.reps)
    print(f"Coverage of 95% intervals, {args.reps} data sets per design, {args.nboot} bootstrap samples each "
          f"(Monte-Carlo SE of a 0.95 coverage: {mc:.3f})")
    for design in designs:
        table = run(design, args.reps, args.nboot, args.workers)
        _, truth = seed_design() if design == "seed" else wellposed_design()
        print(f"\n{design} design: singular fits {100 * table.attrs['singular']:.1f}%, "
              f"{table.attrs['seconds']:.0f} s")
        print("true values: " + ", ".join(f"{k} = {truth[k]:.4g}" for k in PARAMETERS))
        print(table.to_string())


if __name__ == "__main__":
    main()
