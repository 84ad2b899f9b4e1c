"""How many BLAS threads lmmdx's numerics may use.

Measured on this project's 2-core machine: a whole InstEval fit took 1.09 s with one
BLAS thread, 1.50 s with two (the many small and medium BLAS calls lose to thread
hand-offs), and 53 s with two on a machine busy with another process (threads
waiting for descheduled partners). Only the large dense factorisations gain from
threads: the Cholesky factor of InstEval's dense block took 7.5 ms with two
threads against 12.1 ms with one, its inverse 10.9 against 21.0 ms.

So everything runs with one BLAS thread (:func:`single_threaded`), and the engine
lifts the limit around its large dense factorisations only (:func:`dense_threads`),
and only while the machine has idle cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from typing import Any

__all__ = ["IDLE_MARGIN", "LARGE_ORDER", "dense_threads", "single_threaded"]

#: A core counts as idle when the load of other processes leaves at least ``1 - IDLE_MARGIN`` of it.
IDLE_MARGIN = 0.75
#: Dense blocks of at least this order are factorised with threads when cores are idle.
LARGE_ORDER = 200


@cache
def _controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded (numpy's and scipy's), made once."""
    import scipy.linalg  # noqa: F401 - load scipy's BLAS before looking for it
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _idle_cores() -> int:
    """Cores free for this process: the load average counts this process itself as about 1."""
    cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except OSError:
        return 1
    return min(cores, max(1, int(cores - others - IDLE_MARGIN + 1)))


def single_threaded() -> AbstractContextManager[Any]:
    """One BLAS thread inside the block."""
    return _controller().limit(limits=1, user_api="blas")


@contextmanager
def _threads_if_idle() -> Iterator[None]:
    threads = _idle_cores()
    if threads <= 1:
        yield
        return
    with _controller().limit(limits=threads, user_api="blas"):
        yield


def dense_threads(order: int) -> Callable[[], AbstractContextManager[Any]]:
    """The context the engine puts around a dense factorisation of this order.

    Threads (as many as there are idle cores) for orders from ``LARGE_ORDER`` on,
    nothing otherwise.
    """
    return _threads_if_idle if order >= LARGE_ORDER else nullcontext
