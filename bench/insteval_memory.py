"""Peak resident memory of one InstEval fit in a fresh process (target < 500 MB).

Run: .venv/bin/python bench/insteval_memory.py
"""

from __future__ import annotations

import resource
import time
import warnings
from pathlib import Path

import pandas as pd

import lmmdx

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "InstEval.csv"

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    frame = pd.read_csv(DATA)
    start = time.perf_counter()
    result = lmmdx.fit("y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", frame)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"InstEval fit: {seconds:.2f} s, objective {result.objective:.4f}, peak RSS {peak:.0f} MB")
