"""lmmdx on a local Dask cluster: an out-of-core fit of 50M rows, and 20,000 responses through the cluster.

1. **Out of core.** ``y ~ x + (x | g)`` with 100,000 groups, 50,000,000 rows generated into Parquet
   files (one row group each) under ``--dir`` (removed afterwards), fitted by
   :func:`lmmdx.distributed.outofcore.fit_dask` on ``LocalCluster(n_workers=2)`` (what
   ``lmmdx fit 'DIR/*.parquet' FORMULA --dask-local 2`` runs): total time, each worker's peak
   resident memory (``ru_maxrss`` of the worker processes) and this process's; beside it the
   in-memory fit of the first 5,000,000 rows (in its own process: time and peak memory).
2. **Equality.** The first 2,000,000 rows as 20 files, fitted out of core and in memory: the
   objectives' relative difference (the test suite checks the same on 200,000 rows).
3. **Batch.** 20,000 responses of a 200-row design (``y ~ x + (1 | g)``, 20 groups × 10) fitted by
   ``fit_many(workers=2)`` (local processes) and by ``fit_many(client=...)`` on the cluster: fits
   per second each, the cluster's start-up apart; the two tables compared.

Timings depend on the machine's load: run it on an idle machine, or report the load beside them
(it is printed). ``--rows``, ``--groups``, ``--responses`` shrink it for a quick look.

    python bench/dask_scale.py [--rows 50000000] [--groups 100000] [--files 50] [--sample 5000000]
                               [--check-rows 2000000] [--responses 20000] [--dir /work/dask-bench]
                               [--skip outofcore,check,batch]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA = "y ~ x + (x | g)"


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def generate(folder: Path, rows: int, groups: int, files: int, seed: int = 2026) -> list[Path]:
    """``rows`` rows of y = 1 + 0.5 x + b0[g] + b1[g] x + e in ``files`` Parquet files (one row group each)."""
    rng = np.random.default_rng(seed)
    b0, b1 = rng.normal(0.0, 1.0, groups), rng.normal(0.0, 0.3, groups)
    bounds = np.linspace(0, rows, files + 1).astype(np.int64)
    paths = []
    for i in range(files):
        n = int(bounds[i + 1] - bounds[i])
        part = np.random.default_rng([seed, i])
        g = part.integers(0, groups, n).astype(np.int32)
        x = part.normal(size=n)
        y = 1.0 + 0.5 * x + b0[g] + b1[g] * x + part.normal(size=n)
        path = folder / f"part-{i:04d}.parquet"
        pq.write_table(pa.table({"y": y, "x": x, "g": g}), path, row_group_size=n)
        paths.append(path)
    return paths


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would count a forked parent's pages)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_IN_MEMORY = """
import json, sys, time, warnings
from pathlib import Path
import pandas as pd, lmmdx
warnings.simplefilter("ignore")
start = time.perf_counter()
frame = pd.concat([pd.read_parquet(p) for p in sys.argv[2:]], ignore_index=True)
read = time.perf_counter() - start
fit = lmmdx.fit(sys.argv[1], frame)
print(json.dumps({"rows": len(frame), "read": read, "seconds": time.perf_counter() - start,
                  "objective": fit.objective, "peak_mb": [int(l.split()[1]) / 1024 for l in Path("/proc/self/status").read_text().splitlines()
                              if l.startswith("VmHWM:")][0],
                  "converged": bool(fit.converged)}))
"""


def in_memory(paths: list[Path]) -> dict:
    """The in-memory fit of these files, in its own process (its time and peak memory alone)."""
    done = subprocess.run([sys.executable, "-c", _IN_MEMORY, FORMULA, *map(str, paths)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def out_of_core(pattern: str, workers: int) -> dict:
    """Fit the Parquet files of ``pattern`` on a new local cluster; times and every worker's peak memory."""
    import dask.dataframe as dd

    from lmmdx.distributed.cluster import cluster_client
    from lmmdx.distributed.outofcore import fit_dask

    start = time.perf_counter()
    with cluster_client(local=workers) as client:
        ready = time.perf_counter()
        data = dd.read_parquet(pattern)
        passes: list[float] = []

        def progress(done: int, total: int) -> None:
            if done and done % data.npartitions == 0:
                passes.append(time.perf_counter())

        fit = fit_dask(FORMULA, data, client=client, progress=progress)
        fitted = time.perf_counter()
        peaks = client.run(_peak_mb)
    edges = [ready, *passes]
    return {"rows": fit.nobs, "partitions": fit.partitions, "objective": fit.objective, "converged": fit.converged,
            "cluster_start": ready - start, "seconds": fitted - ready,
            "passes (levels, checks, blocks, optimisation + residuals)": [b - a for a, b in itertools.pairwise(edges)],
            "worker_peak_mb": sorted(peaks.values()), "client_peak_mb": _peak_mb(), "sigma": fit.sigma,
            "beta": [float(b) for b in fit.beta]}


def batch(responses: int, workers: int) -> dict:
    """fit_many on 20,000 responses of a 200-row design: local processes against the cluster."""
    import lmmdx
    from lmmdx.distributed.cluster import cluster_client

    rng = np.random.default_rng(7)
    codes = np.repeat(np.arange(20), 10)
    x = rng.normal(size=200)
    names = [f"gene{i:05d}" for i in range(responses)]
    noise = rng.normal(size=(200, responses))
    effects = rng.normal(0, rng.uniform(0, 1, responses), (20, responses))[codes]
    wide = pd.DataFrame(1.0 + 0.3 * x[:, None] + effects + noise, columns=names)
    frame = pd.concat([pd.DataFrame({"g": [f"s{c}" for c in codes], "x": x}), wide], axis=1)
    formula = "y ~ x + (1 | g)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        local = lmmdx.fit_many(formula, frame, responses=names, workers=workers)
        local_seconds = time.perf_counter() - start
        start = time.perf_counter()
        with cluster_client(local=workers) as client:
            ready = time.perf_counter()
            remote = lmmdx.fit_many(formula, frame, responses=names, client=client)
            cluster_seconds = time.perf_counter() - ready
        startup = ready - start
    numbers = [c for c in local.table.columns if c.startswith(("beta:", "se:", "sd:", "sigma", "objective"))]
    gap = float(np.nanmax(np.abs(local.table[numbers].to_numpy(float) - remote.table[numbers].to_numpy(float))))
    return {"responses": responses, "local_seconds": local_seconds, "local_fits_per_s": responses / local_seconds,
            "cluster_seconds": cluster_seconds, "cluster_fits_per_s": responses / cluster_seconds,
            "cluster_start": startup, "largest_difference": gap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--sample", type=int, default=5_000_000)
    parser.add_argument("--check-rows", type=int, default=2_000_000)
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", default=None, help="where to write the Parquet files (default: a temporary folder)")
    parser.add_argument("--skip", default="", help="comma-separated: outofcore, check, batch")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"load average at start: {_load()} on {os.cpu_count()} CPUs", flush=True)
    results: dict = {}
    if not {"outofcore", "check"} <= skip:
        base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="lmmdx-dask-"))
        base.mkdir(parents=True, exist_ok=True)
        try:
            if "outofcore" not in skip:
                folder = base / "scale"
                folder.mkdir(exist_ok=True)
                start = time.perf_counter()
                paths = generate(folder, args.rows, args.groups, args.files)
                size = sum(p.stat().st_size for p in paths) / 1e9
                print(f"generated {args.rows:,} rows in {len(paths)} files ({size:.2f} GB) in "
                      f"{time.perf_counter() - start:.0f} s; load {_load()}", flush=True)
                results["out_of_core"] = out_of_core(str(folder / "*.parquet"), args.workers)
                print(json.dumps(results["out_of_core"], indent=1), f"load {_load()}", flush=True)
                per_file = args.rows / args.files
                sample = paths[: max(1, round(args.sample / per_file))]
                results["in_memory_sample"] = in_memory(sample)
                print(json.dumps(results["in_memory_sample"], indent=1), f"load {_load()}", flush=True)
                shutil.rmtree(folder)
            if "check" not in skip:
                folder = base / "check"
                folder.mkdir(exist_ok=True)
                paths = generate(folder, args.check_rows, max(args.check_rows // 200, 50), 20, seed=11)
                ours = out_of_core(str(folder / "*.parquet"), args.workers)
                theirs = in_memory(paths)
                results["check"] = {"rows": ours["rows"], "partitions": ours["partitions"],
                                    "objective_out_of_core": ours["objective"], "objective_in_memory":
                                    theirs["objective"], "relative_difference":
                                    abs(ours["objective"] - theirs["objective"]) / abs(theirs["objective"])}
                print(json.dumps(results["check"], indent=1), f"load {_load()}", flush=True)
                shutil.rmtree(folder)
        finally:
            if args.dir is None:
                shutil.rmtree(base, ignore_errors=True)
    if "batch" not in skip:
        results["batch"] = batch(args.responses, args.workers)
        print(json.dumps(results["batch"], indent=1), f"load {_load()}", flush=True)
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
