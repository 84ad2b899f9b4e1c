"""Accept pandas, polars and pyarrow tables; hand pandas to the rest of lmmdx."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import DataError

__all__ = ["as_pandas"]


def as_pandas(data: Any) -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame (polars and pyarrow tables are converted).

    Raises
    ------
    DataError
        When ``data`` is not a table.
    """
    if isinstance(data, pd.DataFrame):
        return _unique_columns(data)
    module = type(data).__module__.split(".")[0]
    if module in ("polars", "pyarrow") and hasattr(data, "to_pandas"):
        return _unique_columns(data.to_pandas())
    if isinstance(data, dict):
        try:
            return pd.DataFrame(data)
        except ValueError as exc:
            raise DataError(f"cannot make a table of the data: {exc}") from None
    raise DataError(f"data must be a pandas, polars or pyarrow table, not {type(data).__name__}")


def _unique_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, refused when two columns share a name (which of them would the formula mean?)."""
    if frame.columns.is_unique:
        return frame
    counts = frame.columns.value_counts()
    name = counts.index[counts > 1][0]
    raise DataError(f"the data have {int(counts[name])} columns named {name!r}: rename them so that each "
                    "name is unique")
