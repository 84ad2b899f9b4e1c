"""A local Dask cluster of 2 worker processes (one thread each), shared by the tests of one test process.

The tests are marked ``xdist_group("dask")`` so that pytest-xdist (``--dist loadgroup``) runs them in
one process: one cluster for the whole suite.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR, host="127.0.0.1") as cluster, Client(cluster) as dask_client:
        yield dask_client
