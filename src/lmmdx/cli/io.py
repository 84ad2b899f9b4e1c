"""Reading data files: the only module of lmmdx that opens files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import DataError

__all__ = ["check_output", "demo_data", "read_table", "write_table"]

_PARQUET = {".parquet", ".pq"}


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV or Parquet file into pandas (column types as pandas infers them).

    Raises
    ------
    DataError
        Missing file, a directory, or a file that cannot be parsed.
    """
    file = Path(path)
    if not file.exists():
        raise DataError(f"no such file: {path}")
    if file.is_dir():
        raise DataError(f"{path} is a directory, not a data file")
    suffix = file.suffix.lower()
    try:
        if suffix in _PARQUET:
            return pd.read_parquet(file)
        return pd.read_csv(file, sep=None if suffix in {".txt", ".tsv"} else ",",
                           engine="python" if suffix in {".txt", ".tsv"} else "c")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        kind = "Parquet" if suffix in _PARQUET else "CSV"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {path} as {kind}: {first}") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow and the CSV engines raise many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {path}: {first}") from None


def check_output(path: str) -> None:
    """Refuse an output path whose suffix is not .parquet/.pq/.csv or whose folder does not exist.

    Raises
    ------
    DataError
    """
    file = Path(path)
    if file.suffix.lower() not in _PARQUET | {".csv"}:
        raise DataError(f"cannot write {path}: the output must end in .parquet or .csv")
    if not file.parent.is_dir():
        raise DataError(f"cannot write {path}: no such folder {file.parent}")


def write_table(frame: pd.DataFrame, path: str) -> None:
    """Write ``frame`` as Parquet (``.parquet``, ``.pq``) or CSV (``.csv``), chosen by the suffix.

    Raises
    ------
    DataError
        Another suffix, or a file that cannot be written.
    """
    check_output(path)
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        if suffix in _PARQUET:
            frame.to_parquet(file, index=False)
        else:
            frame.to_csv(file, index=False)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot write {path}: {first}") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises its own types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot write {path}: {first}") from None


def demo_data() -> pd.DataFrame:
    """The seed example shipped with lmmdx (8 groups × 20 observations, slope SD 0.05)."""
    with resources.files("lmmdx.data").joinpath("seed_example.csv").open("r") as handle:
        return pd.read_csv(handle)
