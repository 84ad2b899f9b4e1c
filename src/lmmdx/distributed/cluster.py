"""A Dask client for the command line: a scheduler's address, or a local cluster of N worker processes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import DataError
from .require import require_dask

__all__ = ["cluster_client", "worker_threads"]


def worker_threads(client: Any) -> int:
    """Threads of the cluster's workers, summed (at least 1)."""
    return max(1, sum(client.nthreads().values()))


@contextmanager
def cluster_client(scheduler: str | None = None, local: int | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client``, closed (with its local cluster) on exit.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); its workers need lmmdx installed.
    local : int, optional
        Start a ``LocalCluster`` of this many worker processes (one thread each) on this
        machine instead; they end with this process, however it ends.

    Raises
    ------
    DataError
        Dask is not installed (naming the extra), or the scheduler cannot be reached.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if (scheduler is None) == (local is None):
        raise DataError("give either a scheduler's address or a number of local workers")
    if local is not None:
        if local < 1:
            raise DataError(f"a local Dask cluster needs at least 1 worker, not {local}")
        cluster = LocalCluster(n_workers=local, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                               silence_logs=logging.ERROR, host="127.0.0.1")
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    assert scheduler is not None
    try:
        client = Client(scheduler)
    except (OSError, TimeoutError, ValueError) as exc:
        text = str(exc).strip().splitlines()
        raise DataError(f"cannot reach the Dask scheduler at {scheduler}: {text[0] if text else type(exc).__name__} "
                        "(start one with `dask scheduler`, or use --dask-local N)") from None
    with client:
        yield client
