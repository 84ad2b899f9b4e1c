"""Fits on a Dask cluster (``dask.distributed``).

* :mod:`lmmdx.distributed.batch`: :func:`lmmdx.fit_many` with ``client=`` sends the shared
  design to every worker once and the responses in chunks; a chunk lost with its worker is
  fitted again.
* :mod:`lmmdx.distributed.outofcore`: :func:`lmmdx.fit` of a ``dask.dataframe.DataFrame``,
  partition by partition (:mod:`lmmdx.distributed.partition`): the client holds only the
  cross-product blocks.
* :mod:`lmmdx.distributed.cluster`: the client of the command line's ``--scheduler`` and
  ``--dask-local``.

Dask is an optional dependency (``pip install 'lmmdx[dask]'``); nothing here is imported by a
fit of an in-memory table.
"""

from __future__ import annotations

from .require import require_dask

__all__ = ["require_dask"]
