"""A batch's results table, saved as the fits finish so that no finished fit is ever lost.

While ``lmmdx batch`` runs, each group of finished fits is appended to a journal
next to the output (``results.parquet.partial``: one JSON object per line, flushed
and synced to disk after each group). The results table itself is written
atomically (:func:`~lmmdx.cli.io.write_table`) when the batch ends — or when it is
interrupted (Ctrl-C, SIGTERM, SIGHUP): then it holds every fit that had finished.
If the process is killed outright (SIGKILL, a power cut), the journal survives.

``--resume`` keeps the rows of an existing output and of a journal, fits only the
responses (or levels) that have none, and writes each of them once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..errors import DataError
from .io import read_metadata, read_table, write_table

__all__ = ["BatchOutput", "journal_path"]

_FORMAT = "lmmdx-batch-journal/1"


def journal_path(out: Path) -> Path:
    """Where the journal of a batch writing ``out`` lives."""
    return out.with_name(out.name + ".partial")


def _clean(value: Any) -> Any:
    """A table cell as JSON: NaN and missing values as null."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value


class BatchOutput:
    """The results of one batch: earlier rows (resumed), a journal, and the final table.

    Parameters
    ----------
    out : Path
        The results table (checked by :func:`~lmmdx.cli.io.check_output`).
    key : str
        The key column: ``response`` or the ``--by`` column.
    meta : dict of str
        What the rows are results of (formula, method): a resumed output or journal must match.
    resume : bool
        Keep the rows of an existing output and journal.
    overwrite : bool
        Start afresh, discarding the journal of an interrupted run; without ``resume`` or
        ``overwrite`` such a journal is refused (its rows would be lost).

    Raises
    ------
    DataError
        A journal without ``resume`` or ``overwrite``; a resumed output or journal of another batch.
    """

    def __init__(self, out: Path, key: str, meta: dict[str, str], resume: bool, overwrite: bool = False) -> None:
        self.out = out
        self.key = key
        self.meta = {**meta, "key": key}
        self.journal = journal_path(out)
        self.previous: dict[str, dict[str, Any]] = {}
        self.new: dict[str, dict[str, Any]] = {}
        self._handle: IO[str] | None = None
        if resume:
            self._load()
        elif self.journal.exists():
            if not overwrite:
                raise DataError(f"an interrupted batch left its finished fits in {self.journal}: add --resume to keep "
                                "them and fit the rest, or --overwrite to start again")
            self.journal.unlink()

    # -- resuming ----------------------------------------------------------------------------
    def _load(self) -> None:
        if self.out.exists():
            stored = read_metadata(self.out)
            self._check_meta(stored, str(self.out))
            frame = read_table(str(self.out))
            if self.key not in frame.columns:
                raise DataError(f"cannot resume: {self.out} has no column {self.key!r}, so it is not the output of "
                                "this batch; choose another --out, or --overwrite to replace it")
            for row in frame.to_dict("records"):
                self.previous[str(row[self.key])] = {k: _clean(v) for k, v in row.items()}
        if self.journal.exists():
            with open(self.journal, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
            if lines:
                try:
                    header = json.loads(lines[0])
                except json.JSONDecodeError:
                    header = {}
                if header.get("format") != _FORMAT:
                    raise DataError(f"cannot resume: {self.journal} is not an lmmdx batch journal; remove it or use "
                                    "--overwrite")
                self._check_meta({k: v for k, v in header.items() if k != "format"}, str(self.journal))
                for line in lines[1:]:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:  # the last line of a killed run may be cut short
                        continue
                    self.previous[str(row[self.key])] = row

    def _check_meta(self, stored: dict[str, str], where: str) -> None:
        for name in ("formula", "reml", "key"):
            if name in stored and stored[name] != self.meta.get(name):
                raise DataError(f"cannot resume: {where} holds results for {name} {stored[name]!r}, not "
                                f"{self.meta.get(name)!r}; run the same command as before, or use --overwrite to "
                                "start again")

    @property
    def done(self) -> set[str]:
        """Keys that already have a row (from a resumed output or journal)."""
        return set(self.previous)

    # -- saving as fits finish -------------------------------------------------------------------
    def add(self, rows: list[dict[str, Any]]) -> None:
        """Append finished rows to the journal (flushed and synced before returning)."""
        if self._handle is None:
            fresh = not self.journal.exists()
            self._handle = open(self.journal, "a", encoding="utf-8")  # noqa: SIM115 - closed in finish()
            if fresh:
                self._handle.write(json.dumps({"format": _FORMAT, **self.meta}) + "\n")
        for row in rows:
            clean = {k: _clean(v) for k, v in row.items()}
            self.new[str(clean[self.key])] = clean
            self._handle.write(json.dumps(clean, allow_nan=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def finish(self, order: Sequence[str]) -> int:
        """Write the table atomically (rows in ``order``, then any other earlier rows); remove the journal.

        Returns
        -------
        int
            Rows written.
        """
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        rows = {**self.previous, **self.new}
        ordered = [rows[k] for k in order if k in rows]
        listed = set(order)
        ordered += [row for k, row in rows.items() if k not in listed]
        frame = pd.DataFrame(ordered)
        if frame.empty:
            frame = pd.DataFrame(columns=[self.key])
        write_table(frame, self.out, metadata=self.meta)
        if self.journal.exists():
            self.journal.unlink()
        return len(frame)
