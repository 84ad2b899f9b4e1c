"""Dask is optional: one line naming the extra when it is missing."""

from __future__ import annotations

from ..errors import DataError

__all__ = ["EXTRA", "require_dask"]

#: What to install for the Dask paths.
EXTRA = "pip install 'lmmdx[dask]'"


def require_dask() -> None:
    """Raise a one-line :class:`DataError` naming the extra when dask.distributed or dask.dataframe is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "dask"
        raise DataError(f"the Dask cluster options need dask.distributed and dask.dataframe ({missing} is not "
                        f"installed): {EXTRA}") from None
