"""The results of a batch on a Dask cluster: one Parquet file per finished chunk, then the table.

As each chunk of fits comes back from the cluster it is written, atomically, to its own file in a
Parquet dataset folder next to the output (``results.parquet.parts/part-000001.parquet``, ...;
``pandas.read_parquet`` reads the folder as one table). When the batch ends, or is interrupted,
the results table is written from them as on the local path (:class:`~lmmdx.cli.output.BatchOutput`)
and the folder removed; a run killed outright leaves the folder, and ``--resume`` keeps its rows
(the local path does too), so each response is written once.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from .io import read_metadata, read_table, write_table
from .output import BatchOutput

__all__ = ["ChunkedOutput", "parts_path"]


def parts_path(out: Path) -> Path:
    """The folder of a Dask batch's finished chunks."""
    return out.with_name(out.name + ".parts")


def _value(value: Any) -> Any:
    """A cell read back from a part: missing values as None, numpy scalars as Python values."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


class ChunkedOutput:
    """A :class:`BatchOutput` whose rows, on a cluster, are saved one Parquet file per chunk.

    Parameters
    ----------
    output : BatchOutput
    chunks : bool
        Save each group of rows given to :meth:`add` as a part file (a Dask batch); otherwise
        :meth:`add` is the journal's (the local path).
    resume, overwrite : bool
        As for the output: keep the rows of an existing parts folder, or remove it. Without
        either, a parts folder left by a killed run is refused (its rows would be lost).
    """

    def __init__(self, output: BatchOutput, chunks: bool, resume: bool, overwrite: bool) -> None:
        self.output = output
        self.chunks = chunks
        self.folder = parts_path(output.out)
        self._written = 0
        if self.folder.is_dir():
            if resume:
                self._load()
            elif overwrite:
                shutil.rmtree(self.folder)
            else:
                raise DataError(f"an interrupted batch left its finished fits in {self.folder}: add --resume to keep "
                                "them and fit the rest, or --overwrite to start again")
        elif self.folder.exists():
            raise DataError(f"{self.folder} is in the way of the batch's parts folder: move it")

    def _load(self) -> None:
        key, meta = self.output.key, self.output.meta
        for part in sorted(self.folder.glob("part-*.parquet")):
            stored = read_metadata(part)
            for name in ("formula", "reml", "key"):
                if name in stored and stored[name] != meta.get(name):
                    raise DataError(f"cannot resume: {part} holds results for {name} {stored[name]!r}, not "
                                    f"{meta.get(name)!r}; run the same command as before, or use --overwrite")
            frame = read_table(str(part))
            for row in frame.to_dict("records"):
                self.output.previous[str(row[key])] = {name: _value(value) for name, value in row.items()}
            self._written = max(self._written, int(part.stem.split("-")[1]))

    @property
    def done(self) -> set[str]:
        """Keys with a row already (resumed output, journal or parts)."""
        return self.output.done

    @property
    def new(self) -> dict[str, dict[str, Any]]:
        """Rows of this run."""
        return self.output.new

    @property
    def previous(self) -> dict[str, dict[str, Any]]:
        """Rows kept from an earlier run."""
        return self.output.previous

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Save a finished chunk: its own Parquet file (written atomically), or the journal."""
        if not self.chunks:
            self.output.add(rows)
            return
        self.folder.mkdir(exist_ok=True)
        self._written += 1
        write_table(pd.DataFrame(rows), self.folder / f"part-{self._written:06d}.parquet", metadata=self.output.meta)
        for row in rows:
            self.output.new[str(row[self.output.key])] = row

    def finish(self, order: Sequence[str]) -> int:
        """Write the results table (see :meth:`BatchOutput.finish`), then remove the parts folder."""
        written = self.output.finish(order)
        if self.folder.is_dir():
            shutil.rmtree(self.folder)
        return written
