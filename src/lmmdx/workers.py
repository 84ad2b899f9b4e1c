"""Worker processes that never outlive their parent, in a pool that stops at once when interrupted.

:class:`WorkerPool` wraps :class:`concurrent.futures.ProcessPoolExecutor` (forked
workers on Linux, so large read-only inputs are inherited, not pickled):

* each worker asks the kernel to kill it when its parent dies, whatever the signal
  (``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux), and a watchdog thread exits it
  when its parent process id changes (any other Unix), so a parent killed by
  SIGKILL leaves no worker behind;
* workers ignore SIGINT and restore the default SIGTERM/SIGHUP actions: a Ctrl-C
  in a terminal reaches the whole process group, and the parent alone decides;
* an exception in the parent while the pool runs (``KeyboardInterrupt``, the
  :class:`~lmmdx.errors.Interrupted` of SIGTERM/SIGHUP, anything) cancels the
  pending tasks and terminates the workers at once instead of waiting for them;
* at most twice as many tasks as workers are in flight, so results arrive (and
  can be saved) in a steady stream.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = ["WorkerPool", "die_with_parent", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")

#: Seconds between the watchdog's checks of the parent process id.
_WATCH_INTERVAL = 0.5
#: Seconds a terminated worker gets to exit before it is killed.
_TERMINATE_GRACE = 2.0
_PR_SET_PDEATHSIG = 1


def worker_count(requested: int | None, tasks: int | None = None) -> int:
    """Workers to start: ``requested`` (None or 0 = one per CPU) capped at the CPUs and at ``tasks``."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    count = cpus if not requested or requested <= 0 else min(int(requested), cpus)
    if tasks is not None:
        count = min(count, max(1, tasks))
    return max(1, count)


def _watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(_WATCH_INTERVAL)


def die_with_parent(parent: int) -> None:
    """Make this (worker) process exit when process ``parent`` dies; call first in a worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog still works
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="lmmdx-parent-watchdog").start()


def _initialise(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


class WorkerPool:
    """A process pool whose workers die with the parent and stop when the parent is interrupted.

    Parameters
    ----------
    workers : int
        Worker processes (at least 1).
    initializer : callable, optional
        Run once in each worker, with ``initargs``.
    initargs : tuple

    Use as a context manager; :meth:`imap_unordered` yields results as they complete.
    """

    def __init__(self, workers: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._before = {p.pid for p in multiprocessing.active_children()}
        self._executor = ProcessPoolExecutor(
            max_workers=max(1, int(workers)),
            mp_context=multiprocessing.get_context(method),
            initializer=_initialise,
            initargs=(os.getpid(), initializer, initargs),
        )
        self._workers = max(1, int(workers))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            self._executor.shutdown(wait=True)
        else:
            self.terminate()

    def terminate(self) -> None:
        """Cancel pending tasks and stop every worker now (SIGTERM, then SIGKILL after a grace period)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        children = [p for p in multiprocessing.active_children() if p.pid not in self._before]
        for child in children:
            child.terminate()
        deadline = time.monotonic() + _TERMINATE_GRACE
        for child in children:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join(1.0)

    def imap_unordered(self, function: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """``function(task)`` for every task, in completion order; at most 2 × workers in flight."""
        pending: set[Future[R]] = set()
        source = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * self._workers:
                try:
                    task = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.add(self._executor.submit(function, task))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
