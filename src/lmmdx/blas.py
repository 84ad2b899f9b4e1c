"""How many BLAS threads a fit may use.

OpenBLAS's threads wait for each other at every synchronisation point. On a busy
machine a waiting thread is descheduled, and a fit that takes 2 s on an idle
machine took 53 s with two threads against 1.6 s with one (InstEval on 2 cores
beside another process). Small fits never gain from threads. So fits and the
inference on them run with one BLAS thread, except for large models (a dense rest
block of order ``LARGE_ORDER`` and more) on a machine with idle cores, whose dense
factorisations do gain; the command line also keeps to one thread on a busy machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model

__all__ = ["LARGE_ORDER", "blas_threads_for", "blas_threads_for_model"]

#: Load average (1 minute) that leaves a core idle is below ``cores - IDLE_MARGIN``.
IDLE_MARGIN = 0.75
#: Models whose dense rest block has at least this order gain from BLAS threads.
LARGE_ORDER = 200


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


def blas_threads_for_model(model: Model) -> AbstractContextManager[None]:
    """:func:`blas_threads_for` a model: large when its dense rest block has order ``LARGE_ORDER`` or more."""
    return blas_threads_for(model.deviance.m >= LARGE_ORDER)
