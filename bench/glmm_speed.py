"""GLMM fit times beside glmer's (lme4 1.1-31, measured on this kind of machine, from the reference file).

Targets (issue 14): VerbAgg's crossed ``(1 | id) + (1 | item)`` at least 3× faster than glmer, and
cbpp under 10 ms. Every reference case is timed (median after a warm-up); glmer's time is the one
stored in tests/data/glmm/glmer_reference.json. Timings taken while other work runs on the machine
are not reliable: compare on an idle machine.

    python bench/glmm_speed.py [--repeat N] [--cases a,b]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_time

import lmmdx
from lmmdx.glmm_fitting import fit_glmm

DATA = Path(__file__).parent.parent / "tests" / "data" / "glmm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cases", default="")
    args = parser.parse_args()
    reference = json.loads((DATA / "glmer_reference.json").read_text())
    cases = [c for c in args.cases.split(",") if c] or list(reference)
    warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
    print(f"{'case':32s} {'lmmdx s':>9s} {'cpu s':>9s} {'glmer s':>9s} {'speed-up':>9s} {'evals':>6s}")
    for key in cases:
        case = reference[key]
        name = case["data"]
        data = pd.read_csv(DATA / (name + ".gz" if name == "VerbAgg.csv" else name))

        def run(case=case, data=data):
            return fit_glmm(case["formula"], data, case["family"], nagq=case["nAGQ"])

        repeat = args.repeat if key != "verbagg_crossed" else max(3, args.repeat // 2)
        seconds = median_time(run, repeat)
        cpu = []
        for _ in range(repeat):  # process time: what the fit costs when other work shares the cores
            start = time.process_time()
            result = run()
            cpu.append(time.process_time() - start)
        print(f"{key:32s} {seconds:9.4f} {statistics.median(cpu):9.4f} {case['seconds']:9.3f} "
              f"{case['seconds'] / seconds:8.1f}x {result.optimizer.nevals:6d}")


if __name__ == "__main__":
    main()
