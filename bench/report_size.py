"""Size and time of the HTML report (``lmmdx report``) for the seed example and InstEval.

For each case: the fit, then each part of the report (Satterthwaite tests, diagnosis, remedies,
profiles, invariance when asked) and the rendering (figures as SVG, HTML; the first one in a
process also imports matplotlib) and writing, timed separately, and the file's size. The machine's load is printed beside the figures: timings on a
shared machine are only indicative.

    .venv/bin/python bench/report_size.py [--skip-large] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import pandas as pd

import lmmdx
from lmmdx.report.html.document import collect, render

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
CASES = [
    ("seed_example.csv", "y ~ x + (x | group)", True),
    ("InstEval.csv", "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="only the seed example")
    parser.add_argument("--out", default=".", help="folder for the reports (default: here)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
    for name, formula, invariance in CASES[:1] if args.skip_large else CASES:
        data = pd.read_csv(DATA / name)
        start = time.perf_counter()
        fit = lmmdx.fit(formula, data)
        fitted = time.perf_counter() - start
        parts = collect(fit, invariance=invariance, source=name)
        start, cpu = time.perf_counter(), time.process_time()
        text = render(parts)
        out = Path(args.out) / f"report_{Path(name).stem}.html"
        out.write_text(text, encoding="utf-8")
        written, cpu = time.perf_counter() - start, time.process_time() - cpu
        analyses = ", ".join(f"{k} {v:.1f} s" for k, v in parts.seconds.items())
        print(f"{name} ({fit.nobs:,} rows): fit {fitted:.1f} s; {analyses}; render and write {written:.1f} s ({cpu:.1f} s CPU); "
              f"{len(text.encode()) / 1e6:.2f} MB -> {out} (load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
