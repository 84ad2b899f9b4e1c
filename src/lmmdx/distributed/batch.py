"""A batch of fits on a Dask cluster (:func:`lmmdx.fit_many` with ``client=``).

The batch's common part (the shared design of the covariates, or the whole table for ``by=``) is
sent to every worker once; each chunk of fits is a task that brings only its own response
columns. Results come back as chunks finish and go to the caller's ``collect`` (the command
line writes each to its own Parquet file at once). A worker that dies takes only the chunk it
was fitting, which the scheduler gives to another worker (Dask's own retry of a lost task); a
response whose fit fails is a row with its error, as on the local path, and each row is computed
by the same function (:func:`lmmdx.batch.run.run_chunk`), so the table is the same row for row.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from ..batch.run import BatchJob, run_chunk
from ..errors import DataError
from .cluster import worker_threads

__all__ = ["cluster_workers", "run_chunks"]


def cluster_workers(client: Any) -> int:
    """How many fits the cluster runs at once (its workers' threads): sets the chunk size."""
    return worker_threads(client)


def _common(job: BatchJob) -> BatchJob:
    """On a worker: the batch's common part (fetched by each other worker once, when it first needs it)."""
    return job


def _fit_chunk(common: BatchJob, columns: pd.DataFrame | None, indices: Sequence[int]) -> list[Any]:
    """On a worker: one chunk of fits, with one BLAS thread (the matrices are small)."""
    with threadpool_limits(1):
        return run_chunk(common.with_columns(columns), indices)


def run_chunks(client: Any, job: BatchJob, chunks: Sequence[Sequence[int]],
               collect: Callable[[list[Any]], None]) -> None:
    """Fit every chunk of ``job`` on the cluster; ``collect(results)`` as each chunk finishes.

    Raises
    ------
    DataError
        A chunk could not be computed at all (its workers kept dying, or the cluster went away).
    """
    from distributed import as_completed

    tag = uuid.uuid4().hex[:8]
    # The common part is a task's result, not scattered data: if every worker holding it dies, the
    # scheduler computes it again from the task (scattered data would be lost with its workers).
    common = client.submit(_common, job.common(), key=f"lmmdx-batch-{tag}-common", pure=False)
    pending: dict[Any, int] = {}
    try:
        with warnings.catch_warnings():  # "large object in the task graph": a chunk's columns travel with it
            warnings.simplefilter("ignore", UserWarning)
            for number, chunk in enumerate(chunks):
                future = client.submit(_fit_chunk, common, job.columns(chunk), list(chunk),
                                       key=f"lmmdx-batch-{tag}-{number}", pure=False)
                pending[future] = number
        for future in as_completed(list(pending)):
            try:
                part = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost chunk (KilledWorker, a cluster gone): one line
                text = str(exc).strip().splitlines()
                raise DataError(f"the Dask cluster could not fit chunk {pending[future] + 1} of {len(chunks)} "
                                f"({type(exc).__name__}: {text[0] if text else ''}); the finished fits are "
                                "kept (lmmdx batch --resume, or fit_many(skip=...), fits the rest)") from None
            collect(part)
            future.release()
    finally:
        client.cancel(list(pending) + [common], force=True)
