"""How many BLAS threads a fit may use.

OpenBLAS's threads wait for each other at every synchronisation point. On a busy
machine a waiting thread is descheduled, and a fit that takes 2 s on an idle
machine took 53 s with two threads against 1.6 s with one (InstEval on 2 cores
beside another process). Small fits never gain from threads. So fits run with one
BLAS thread, except large ones (a dense rest block of order ``GRADIENT_MIN_ORDER``
and more) on a machine with idle cores, whose dense factorisations do gain.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

__all__ = ["blas_threads_for"]

#: Load average (1 minute) that leaves a core idle is below ``cores - IDLE_MARGIN``.
IDLE_MARGIN = 0.75


@cache
def _controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded (numpy's and scipy's), made once."""
    import scipy.linalg  # noqa: F401 - load scipy's BLAS before looking for it
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _machine_has_idle_cores() -> bool:
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    return cores > 1 and load < cores - IDLE_MARGIN


@contextmanager
def blas_threads_for(large: bool) -> Iterator[None]:
    """One BLAS thread for the fit, unless it is ``large`` and the machine has idle cores."""
    if large and _machine_has_idle_cores():
        with nullcontext():
            yield
        return
    with _controller().limit(limits=1, user_api="blas"):
        yield
