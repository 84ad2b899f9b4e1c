"""lmmdx against lme4 and mixedlm at every size, in one interleaved run on the same CSVs.

Cases (generated once, seeded, into ``--data``):

* ``slopes-100k``, ``slopes-1M``: ``y ~ x + (x | g)``, 50 rows per group;
* ``crossed-10k``, ``crossed-100k``, ``crossed-1M``: ``y ~ x + (1 | s) + (1 | i)``, about √n/2
  levels of each factor;
* ``insteval``: ``y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)`` on InstEval (73k rows);
* ``sleepstudy``: ``Reaction ~ Days + (Days | Subject)``;
* ``zerocorr-100k``: ``y ~ x + (1 + x || g)`` on the ``slopes-100k`` rows (2,000 groups × 50).

For the slopes and zero-correlation cases at 100k rows lmmdx's worker also times the diagnosis
(``fit.diagnose()``) and the remedies (``fit.remedies()``) of the fit (``--no-extras`` skips them).

Every fit runs in a fresh process (so its peak memory is its own, read from ``wait4``'s
resource usage), after the CSV is read; each tool's worker prints its seconds and objective.
The repeats are interleaved (case by case, tool by tool) so that a busy machine slows all
tools alike. lmmdx's worker also prints the cost of each stage: the design, the
cross-products, the criterion's workspace, the optimisation (with its number of
evaluations) and one evaluation of the criterion.

Peers: lme4 through ``Rscript`` (skipped when R or lme4 is missing) and mixedlm (``pip install
mixedlm``, a Rust port of lme4; a bench-only tool, run by ``--mixedlm-python`` or this
interpreter; skipped when it cannot be imported).

Run: .venv/bin/python bench/scaling.py [--cases slopes-1M,crossed-1M] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Case:
    name: str
    formula: str
    rows: int
    kind: str  # slopes | crossed | file

    @property
    def file(self) -> str:
        return f"{SAME_ROWS.get(self.name, self.name)}.csv"


CASES = [
    Case("sleepstudy", "Reaction ~ Days + (Days | Subject)", 180, "file"),
    Case("slopes-100k", "y ~ x + (x | g)", 100_000, "slopes"),
    Case("slopes-1M", "y ~ x + (x | g)", 1_000_000, "slopes"),
    Case("crossed-10k", "y ~ x + (1 | s) + (1 | i)", 10_000, "crossed"),
    Case("crossed-100k", "y ~ x + (1 | s) + (1 | i)", 100_000, "crossed"),
    Case("crossed-1M", "y ~ x + (1 | s) + (1 | i)", 1_000_000, "crossed"),
    Case("insteval", "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", 73_421, "file"),
    Case("zerocorr-100k", "y ~ x + (1 + x || g)", 100_000, "slopes"),
]
#: Cases that read another case's CSV.
SAME_ROWS = {"zerocorr-100k": "slopes-100k"}
#: Cases whose diagnosis and remedies lmmdx's worker times too.
EXTRAS = {"slopes-100k", "zerocorr-100k"}


def _source_csv(name: str) -> Path:
    for folder in (SHARED, ROOT / "tests" / "data"):
        path = folder / name
        if path.exists():
            return path
    raise SystemExit(f"cannot find {name} in {SHARED} or tests/data")


def generate(case: Case, folder: Path) -> Path:
    """Write the case's CSV (once) and return its path."""
    path = folder / case.file
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    if case.kind == "file":
        source = {"sleepstudy": "sleepstudy.csv", "insteval": "InstEval.csv"}[case.name]
        shutil.copyfile(_source_csv(source), path)
        return path
    rng = np.random.default_rng(20240613 + case.rows)  # the same rows for every case of one size
    n = case.rows
    x = rng.normal(size=n)
    if case.kind == "slopes":
        groups = n // 50
        g = np.repeat(np.arange(groups), 50)
        b0 = rng.normal(scale=1.0, size=groups)
        b1 = rng.normal(scale=0.5, size=groups)
        y = 1.0 + 0.5 * x + b0[g] + b1[g] * x + rng.normal(size=n)
        columns = {"y": y, "x": x, "g": np.char.add("g", g.astype(str))}
    else:
        levels = max(2, round(np.sqrt(n) / 2))
        s = rng.integers(0, levels, size=n)
        i = rng.integers(0, levels, size=n)
        us, ui = rng.normal(scale=0.7, size=levels), rng.normal(scale=0.4, size=levels)
        y = 1.0 + 0.5 * x + us[s] + ui[i] + rng.normal(size=n)
        columns = {"y": y, "x": x, "s": np.char.add("s", s.astype(str)), "i": np.char.add("i", i.astype(str))}
    import pandas as pd

    pd.DataFrame(columns).to_csv(path, index=False, float_format="%.10g")
    return path


LMMDX_WORKER = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    import pandas as pd
    warnings.simplefilter("ignore")
    path, formula, extras = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    frame = pd.read_csv(path)
    t0 = time.perf_counter()
    import lmmdx
    from lmmdx.blas import single_threaded
    from lmmdx.design import build_design
    from lmmdx.engine import ProfiledDeviance, cross_products
    from lmmdx.fitting import fit_model
    from lmmdx.formula import parse_formula
    from lmmdx.model import Model, engine_terms
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = lmmdx.fit(formula, frame)
    total = time.perf_counter() - t0
    # the stages, measured again on their own after the timed fit
    t0 = time.perf_counter()
    design = build_design(parse_formula(formula), frame)
    t_design = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = Model.from_design(design)
    t_model = time.perf_counter() - t0
    with single_threaded():
        x = design.X @ model.scaling.x_transform
        y = design.y / model.scaling.y_scale
        terms = engine_terms(design, model.scaling)
        t0 = time.perf_counter()
        blocks = cross_products(y, x, terms)
        t_cross = time.perf_counter() - t0
    t0 = time.perf_counter()
    refit = fit_model(model)
    t_opt = time.perf_counter() - t0
    theta = refit.theta_internal
    with single_threaded():
        model.deviance(theta, True)
        reps, t0 = 0, time.perf_counter()
        while reps < 3 or (time.perf_counter() - t0 < 0.2 and reps < 200):
            model.deviance(theta, True)
            reps += 1
        t_eval = (time.perf_counter() - t0) / reps
    stages = {"import": t_import, "design": t_design, "model": t_model, "crossprod": t_cross,
              "optimise": t_opt, "evaluation": t_eval, "evaluations": int(refit.optimizer.nevals),
              "m": int(blocks.m), "schur": model.deviance._schur.mode}
    if extras:
        t0 = time.perf_counter()
        fit.diagnose()
        stages["diagnose"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fit.remedies()
        stages["remedies"] = time.perf_counter() - t0
    print(json.dumps({"seconds": total, "objective": fit.objective, "stages": stages}))
    """
)

MIXEDLM_WORKER = textwrap.dedent(
    """
    import json, sys, time, warnings
    import pandas as pd
    warnings.simplefilter("ignore")
    path, formula = sys.argv[1], sys.argv[2]
    frame = pd.read_csv(path)
    for column in ("g", "s", "i", "d", "dept", "Subject"):
        if column in frame.columns:
            frame[column] = frame[column].astype(str)
    import mixedlm
    t0 = time.perf_counter()
    result = mixedlm.lmer(formula, frame, REML=True)
    total = time.perf_counter() - t0
    objective = getattr(result, "deviance", None)
    try:
        objective = float(mixedlm.REMLcrit(result))
    except Exception:
        objective = float(-2.0 * result.loglik()) if hasattr(result, "loglik") else float("nan")
    print(json.dumps({"seconds": total, "objective": objective}))
    """
)

LME4_WORKER = textwrap.dedent(
    """
    args <- commandArgs(trailingOnly = TRUE)
    suppressMessages(library(lme4))
    frame <- read.csv(args[1])
    for (column in c("g", "s", "i", "d", "dept", "Subject")) {
      if (column %in% names(frame)) frame[[column]] <- factor(frame[[column]])
    }
    start <- proc.time()[["elapsed"]]
    fit <- lmer(as.formula(args[2]), frame, REML = TRUE)
    total <- proc.time()[["elapsed"]] - start
    cat(sprintf('{"seconds": %.6f, "objective": %.10f}\\n', total, REMLcrit(fit)))
    """
)


def _have_lme4() -> bool:
    if shutil.which("Rscript") is None:
        return False
    done = subprocess.run(["Rscript", "-e", "library(lme4)"], capture_output=True, check=False)
    return done.returncode == 0


def _have_mixedlm(python: str) -> bool:
    done = subprocess.run([python, "-c", "import mixedlm"], capture_output=True, check=False)
    return done.returncode == 0


def run_worker(command: list[str]) -> tuple[dict | None, float, str]:
    """Run one worker; its printed JSON, its own peak resident memory (MB) and its stderr tail.

    The peak comes from ``/usr/bin/time`` (a small process, so the figure is the worker's own);
    without it, from ``wait4``, where Linux counts the forking parent's size as a floor.
    """
    timer = shutil.which("time", path="/usr/bin")
    with tempfile.NamedTemporaryFile("w+") as peak_file, tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as err:
        full = [timer, "-f", "%M", "-o", peak_file.name, *command] if timer else command
        proc = subprocess.Popen(full, stdout=out, stderr=err, text=True)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped by wait4
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        peak = usage.ru_maxrss / 1024
        if timer:
            text = Path(peak_file.name).read_text().strip().splitlines()
            peak = float(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    result = None
    for line in stdout.splitlines()[::-1]:
        if line.strip().startswith("{"):
            result = json.loads(line)
            break
    return result, peak, stderr.strip().splitlines()[-1] if stderr.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default="/tmp/lmmdx-scaling")
    parser.add_argument("--mixedlm-python", default=sys.executable)
    parser.add_argument("--tools", default="lmmdx,mixedlm,lme4")
    parser.add_argument("--no-extras", action="store_true", help="skip timing lmmdx's diagnosis and remedies")
    args = parser.parse_args()
    names = args.cases.split(",")
    cases = [c for c in CASES if c.name in names]
    unknown = set(names) - {c.name for c in cases}
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    folder = Path(args.data)
    paths = {c.name: generate(c, folder) for c in cases}
    tools = args.tools.split(",")
    workers: dict[str, list[str]] = {}
    scripts = folder / "workers"
    scripts.mkdir(exist_ok=True)
    (scripts / "lmmdx_worker.py").write_text(LMMDX_WORKER)
    (scripts / "mixedlm_worker.py").write_text(MIXEDLM_WORKER)
    (scripts / "lme4_worker.R").write_text(LME4_WORKER)
    if "lmmdx" in tools:
        workers["lmmdx"] = [sys.executable, str(scripts / "lmmdx_worker.py")]
    extras = "0" if args.no_extras else "1"
    if "mixedlm" in tools:
        if _have_mixedlm(args.mixedlm_python):
            workers["mixedlm"] = [args.mixedlm_python, str(scripts / "mixedlm_worker.py")]
        else:
            print(f"mixedlm: not importable by {args.mixedlm_python}; skipped (pip install mixedlm)")
    if "lme4" in tools:
        if _have_lme4():
            workers["lme4"] = ["Rscript", str(scripts / "lme4_worker.R")]
        else:
            print("lme4: Rscript or the lme4 package is missing; skipped")
    try:
        load = os.getloadavg()
        print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    except OSError:
        pass
    results: dict[tuple[str, str], list[tuple[dict, float]]] = {}
    for rep in range(args.repeat):
        for case in cases:
            for tool, command in workers.items():
                full = [*command, str(paths[case.name]), case.formula]
                if tool == "lmmdx":
                    full.append(extras if case.name in EXTRAS else "0")
                result, peak, err = run_worker(full)
                if result is None:
                    print(f"  {tool} on {case.name} failed: {err}")
                    continue
                results.setdefault((case.name, tool), []).append((result, peak))
                print(f"  [{rep + 1}/{args.repeat}] {case.name:13s} {tool:8s} {result['seconds']:8.3f} s"
                      f"  objective {result['objective']:.8f}  peak {peak:7.0f} MB", flush=True)
    _table(cases, list(workers), results)


def _table(cases: list[Case], tools: list[str], results: dict) -> None:
    print()
    header = f"{'case':13s} {'rows':>9s} " + " ".join(f"{t + ' s':>10s} {t + ' MB':>10s}" for t in tools)
    header += "  ratios (peer / lmmdx)   objective − lmmdx's (relative)"
    print(header)
    for case in cases:
        line = f"{case.name:13s} {case.rows:9d} "
        med: dict[str, float] = {}
        obj: dict[str, float] = {}
        for tool in tools:
            runs = results.get((case.name, tool))
            if not runs:
                line += f"{'-':>10s} {'-':>10s} "
                continue
            med[tool] = statistics.median(r["seconds"] for r, _ in runs)
            obj[tool] = runs[0][0]["objective"]
            line += f"{med[tool]:10.4f} {max(p for _, p in runs):10.0f} "
        if "lmmdx" in med:
            ratios = [f"{t} {med[t] / med['lmmdx']:.1f}×" for t in tools if t != "lmmdx" and t in med]
            diffs = [f"{t} {(obj[t] - obj['lmmdx']) / abs(obj['lmmdx']):+.1e}" for t in tools if t != "lmmdx" and t in obj]
            line += "  " + ", ".join(ratios) + "   " + ", ".join(diffs)
        print(line)
    print()
    print("lmmdx stages (median seconds): import of lmmdx, design, model (scaling + cross-products + the\n"
          "criterion's workspace), crossprod (the cross-products alone), optimise (fit_model: optimiser,\n"
          "polish, solution), one evaluation at the optimum, the number of evaluations, the order m of\n"
          "the dense rest block and the Schur update's way; diagnose and remedies of the fit")
    keys: list[str] = []
    for case in cases:
        for r, _ in results.get((case.name, "lmmdx"), []):
            keys += [k for k in r.get("stages", {}) if k not in keys]
    print(f"{'case':13s} " + " ".join(f"{k:>11s}" for k in keys))
    for case in cases:
        runs = results.get((case.name, "lmmdx"))
        if not runs:
            continue
        cells = []
        for k in keys:
            values = [r["stages"][k] for r, _ in runs if k in r.get("stages", {})]
            if not values:
                cells.append(f"{'-':>11s}")
            elif isinstance(values[0], str):
                cells.append(f"{values[0]:>11s}")
            elif k in ("evaluations", "m"):
                cells.append(f"{int(statistics.median(values)):11d}")
            else:
                cells.append(f"{statistics.median(values):11.5f}")
        print(f"{case.name:13s} " + " ".join(cells))


if __name__ == "__main__":
    main()
