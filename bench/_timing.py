"""Shared by the bench scripts: the median wall time of a call, after one warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fun: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls of ``fun`` after one warm-up call."""
    fun()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fun()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
