"""Reading data files and writing results: the only module of lmmdx that opens files.

CSV is read as R's ``read.csv`` reads it: a value is missing when it is ``NA`` or an
empty field (``--na-values`` adds more); ``None``, ``null``, ``n/a`` are levels like any
other text, and ``NaN``/``Inf`` in a numeric column are numbers. Options say how the
file is written (``--sep``, ``--decimal``, ``--encoding``, ``--comment``); a byte-order
mark says the encoding by itself. When a file looks written another way than it is read
(one header column holding ``;``, bytes that are not UTF-8, numbers with decimal commas,
dates, a numeric column with a few stray words) the error says so and names the option
or the change that reads it. Only the columns a command needs are read.

Writes are atomic: a temporary file in the output's folder, renamed into place.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO

import pandas as pd

from ..errors import DataError

__all__ = [
    "STDIN",
    "ReadOptions",
    "check_columns",
    "check_output",
    "demo_data",
    "read_metadata",
    "read_table",
    "write_table",
    "write_text",
]

_PARQUET = {".parquet", ".pq"}
#: The file name that means standard input.
STDIN = "-"
#: Values that mean missing whatever the options say (R's read.csv: ``na.strings = "NA"``, empty fields).
_ALWAYS_MISSING = ("NA", "")
#: Distinct values examined by the checks of a column's type.
_SAMPLE = 10_000
#: A column with at most this share of non-numeric values (and at least _MIN_NUMERIC_LEVELS distinct
#: numbers) is a numeric column with stray values, not a categorical one.
_STRAY_SHARE = 0.1
_MIN_NUMERIC_LEVELS = 5
#: Files up to this size (bytes) are parsed whole, so that a row with too many fields is an error;
#: larger ones are parsed only in the columns a command needs.
_READ_WHOLE = 64 * 1024 * 1024
_WHOLE_COLUMNS = 2_000
#: Largest header line read (a million columns of ~100 characters).
_MAX_HEADER = 256 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DATE = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?"
    r"|\d{4}/\d{1,2}/\d{1,2}( \d{1,2}:\d{2}(:\d{2})?)?"
    r"|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?"
    r"|\d{1,2}[ -](jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ -]\d{2,4})\s*$",
    re.IGNORECASE,
)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?(\d{1,3}(\.\d{3})+|\d*),\d+([eE][+-]?\d+)?\s*$")
_SEPARATORS = {";": ("';'", "';'"), "\t": ("a tab", "tab"), "|": ("'|'", "'|'")}
_EXCEL_SEP = re.compile(r"^\ufeff?sep=(.)\s*$")


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How a CSV file is written.

    Attributes
    ----------
    sep : str or None
        Field separator; None: ``,`` (a tab for ``.tsv``/``.tab``, guessed for ``.txt``).
    decimal : str
        Decimal mark (``"."`` or ``","``).
    encoding : str or None
        Text encoding; None: UTF-8, or what a byte-order mark says.
    na_values : tuple of str
        Values that mean missing besides ``NA`` and empty fields.
    comment : str or None
        Text from this character to the end of a line is ignored.
    """

    sep: str | None = None
    decimal: str = "."
    encoding: str | None = None
    na_values: tuple[str, ...] = field(default_factory=tuple)
    comment: str | None = None


#: Header names → the names to read (None: read every column).
Selector = Callable[[list[str]], Iterable[str]]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _label(path: str) -> str:
    return "standard input" if path == STDIN else path


def _open(path: str, stdin: IO[bytes] | None) -> IO[bytes]:
    """A seekable binary handle on the file (standard input is read into memory)."""
    if path == STDIN:
        source = stdin if stdin is not None else sys.stdin.buffer
        if stdin is None and sys.stdin.isatty():
            raise DataError("the data file '-' means standard input, but nothing is piped in: "
                            "write `cat data.csv | lmmdx ...` or give a file name")
        return io.BytesIO(source.read())
    file = Path(path)
    if not file.exists():
        raise DataError(f"no such file: {path}")
    if file.is_dir():
        raise DataError(f"{path} is a directory, not a data file")
    try:
        return open(file, "rb")
    except OSError as exc:
        raise DataError(f"cannot open {path}: {exc.strerror or _first_line(exc)}") from None


def _sniff(head: bytes, path: str, options: ReadOptions) -> tuple[str, str]:
    """``("csv" | "gzip", encoding)`` from the first bytes; refuses binary files."""
    label = _label(path)
    if head.startswith(b"\x1f\x8b"):
        return "gzip", options.encoding or "utf-8"
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError(f"{label} is a zip archive or an Excel workbook, not a CSV file: save the sheet as CSV "
                        "(in Excel: File > Save As > CSV UTF-8) and read that")
    if not head.strip():
        raise DataError(f"{label} is empty: it has no header line and no rows")
    if options.encoding:
        return "csv", options.encoding
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return "csv", encoding
    if b"\x00" in head:
        pairs = head[: len(head) - len(head) % 2]
        if pairs[1::2].count(0) > 0.4 * len(pairs) // 2:
            raise DataError(f"{label} looks like UTF-16 text without a byte-order mark: add --encoding utf-16-le "
                            "(or utf-16-be)")
        if pairs[0::2].count(0) > 0.4 * len(pairs) // 2:
            raise DataError(f"{label} looks like UTF-16 text without a byte-order mark: add --encoding utf-16-be")
        raise DataError(f"{label} is a binary file, not CSV text: give a CSV or Parquet file")
    return "csv", "utf-8"


def _separator(options: ReadOptions, path: str, line: str) -> str:
    if options.sep is not None:
        return options.sep
    suffix = Path(path).suffix.lower() if path != STDIN else ""
    if suffix in {".tsv", ".tab"}:
        return "\t"
    if suffix == ".txt":
        counts = {sep: line.count(sep) for sep in (",", "\t", ";", "|")}
        best = max(counts, key=lambda s: counts[s])
        return best if counts[best] else ","
    return ","


def _unique_names(names: list[str]) -> list[str]:
    """Header names as pandas (and R's make.unique) make them: blanks named, duplicates numbered."""
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        name = name if name != "" else f"Unnamed: {i}"
        candidate, count = name, 0
        while candidate in seen:
            count += 1
            candidate = f"{name}.{count}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _decode_error(path: str, encoding: str, exc: UnicodeDecodeError) -> DataError:
    byte = exc.object[exc.start : exc.start + 1] if isinstance(exc.object, bytes) else b""
    what = f" (byte 0x{byte.hex()})" if byte else ""
    if encoding.replace("-", "").replace("_", "").lower().startswith("utf8"):
        return DataError(f"{_label(path)} is not UTF-8 text{what}: it was probably saved in another encoding; "
                         "add --encoding latin-1 (or cp1252, Windows' default; utf-16 for Excel's 'Unicode text')")
    return DataError(f"{_label(path)} cannot be read as {encoding}{what}: give the file's encoding with --encoding")


def _header(handle: IO[bytes], path: str, encoding: str, sep: str, options: ReadOptions,
            skip: int = 0) -> tuple[list[str], int]:
    """The header's names and the number of fields of the first data row (-1 when there is none)."""
    try:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} given with --encoding: use e.g. utf-8, latin-1, cp1252, "
                        "utf-16") from None
    try:
        lines = _logical_lines(text, options.comment, skip)
        reader = csv.reader(lines, delimiter=sep if len(sep) == 1 else ",")
        header = next(reader, None)
        try:
            first = next(reader, None)
        except csv.Error:  # a long field in the first row: its count of fields is not needed
            first = None
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} given with --encoding: use e.g. utf-8, latin-1, cp1252, "
                        "utf-16") from None
    except csv.Error as exc:
        raise DataError(f"cannot read the header of {_label(path)} as CSV: {_first_line(exc)}") from None
    finally:
        text.detach()  # the handle stays open for pandas
    if not header:
        raise DataError(f"{_label(path)} has no header line (only blank or comment lines)")
    return header, -1 if first is None else len(first)


def _logical_lines(text: io.TextIOWrapper, comment: str | None, skip: int = 0) -> Iterable[str]:
    """Lines of ``text`` after the first ``skip``, without blank lines and (with ``comment``) comment lines."""
    total = 0
    for number, line in enumerate(text):
        if number < skip:
            continue
        total += len(line)
        if total > _MAX_HEADER:
            raise DataError(f"the first lines of the file are longer than {_MAX_HEADER // 2**20} MB")
        if not line.strip():
            continue
        if comment and line.lstrip().startswith(comment):
            continue
        yield line


def _check_header(header: list[str], first_row: int, path: str, sep: str, options: ReadOptions) -> None:
    label = _label(path)
    if len(header) == 1 and options.sep is None:
        for candidate, (name, option) in _SEPARATORS.items():
            if candidate in header[0]:
                decimal = " (and --decimal , if numbers are written 1,5)" if candidate == ";" else ""
                shown = header[0] if len(header[0]) <= 60 else header[0][:57] + "..."
                raise DataError(f"the header of {label} is a single column {shown!r}: its fields seem to be "
                                f"separated by {name}, not commas; add --sep {option}{decimal}")
    if header[0].lstrip().startswith("#") and not options.comment and (len(header) == 1 or first_row not in
                                                                        (-1, len(header))):
        raise DataError(f"the first line of {label} starts with '#' and does not look like the header: if it is "
                        "a comment, add --comment '#'")


def read_table(path: str, options: ReadOptions | None = None, select: Selector | None = None,
               stdin: IO[bytes] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file (``-``: CSV or Parquet from standard input) into pandas.

    Parameters
    ----------
    path : str
    options : ReadOptions, optional
        How a CSV file is written (Parquet files ignore them).
    select : callable(names) -> names, optional
        Given the file's column names, the ones to read (default: all).
    stdin : binary file, optional
        Read instead of the process's standard input when ``path`` is ``-``.

    Raises
    ------
    DataError
        Missing file, a directory, an empty or binary file, or a file that cannot be
        parsed; the message says what to change when the file seems written otherwise.
    """
    options = options or ReadOptions()
    handle = _open(path, stdin)
    try:
        head = handle.read(4096)
        handle.seek(0)
        if head.startswith(b"PAR1") or (path != STDIN and Path(path).suffix.lower() in _PARQUET):
            return _read_parquet(handle, path, select)
        kind, encoding = _sniff(head, path, options)
        if kind == "gzip":
            handle = gzip.GzipFile(fileobj=handle)  # type: ignore[assignment]
            head = handle.read(4096)
            handle.seek(0)
            kind, encoding = _sniff(head, path, options)
        return _read_csv(handle, path, encoding, options, select)
    finally:
        handle.close()


def _read_parquet(handle: IO[bytes], path: str, select: Selector | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = list(pq.ParquetFile(handle).schema_arrow.names)
        handle.seek(0)
        wanted = None if select is None else set(select(names))
        columns = None if wanted is None else [n for n in names if n in wanted] or names[:1]
        return pd.read_parquet(handle, columns=columns)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for damaged files
        raise DataError(f"cannot read {_label(path)} as Parquet: {_first_line(exc)}") from None


def _read_csv(handle: IO[bytes], path: str, encoding: str, options: ReadOptions,
              select: Selector | None) -> pd.DataFrame:
    label = _label(path)
    peek = handle.read(64 * 1024)
    handle.seek(0)
    try:
        first_line = peek.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0] if peek else ""
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r} given with --encoding: use e.g. utf-8, latin-1, cp1252, "
                        "utf-16") from None
    directive = _EXCEL_SEP.match(first_line)  # Excel's "sep=;" line names the separator
    sep = (options.sep or directive.group(1)) if directive else _separator(options, path, first_line)
    skip = 1 if directive else 0
    raw, first_row = _header(handle, path, encoding, sep, options, skip)
    handle.seek(0)
    _check_header(raw, first_row, path, sep, options)
    names = _unique_names(raw)
    wanted = set(names if select is None else select(names))
    positions = [i for i, name in enumerate(names) if name in wanted] or [0]
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    # pandas ignores surplus fields of a row when it reads selected columns: a small file is read
    # whole so that a ragged row is an error; a large one only in the columns asked for.
    whole = size <= _READ_WHOLE and len(names) <= _WHOLE_COLUMNS
    try:
        frame = pd.read_csv(
            handle,
            sep=sep,
            decimal=options.decimal,
            encoding=encoding,
            na_values=[*_ALWAYS_MISSING, *options.na_values],
            keep_default_na=False,
            comment=options.comment,
            usecols=None if whole else positions,
            header=0,
            skiprows=skip,
            engine="c" if len(sep) == 1 else "python",
            encoding_errors="strict",
        )
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{label} is empty: it has no header line and no rows") from None
    except pd.errors.ParserError as exc:
        message = _first_line(exc)
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
        if match:
            raise DataError(f"cannot read {label} as CSV: line {match.group(2)} has {match.group(3)} fields where "
                            f"the header has {match.group(1)}; check the separator (--sep) and the quoting of "
                            "that line") from None
        raise DataError(f"cannot read {label} as CSV: {message}") from None
    except (OSError, ValueError, csv.Error) as exc:
        raise DataError(f"cannot read {label} as CSV: {_first_line(exc)}") from None
    if whole:
        frame.columns = names
        frame = frame.iloc[:, positions]
    else:
        frame.columns = [names[i] for i in positions]
    return _numbers_as_r_reads_them(frame)


def _numbers_as_r_reads_them(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose every value is a number, ``NaN`` or ``Inf`` become numeric (as in R)."""
    converted = {}
    for name in frame.columns:
        column = frame[name]
        if not _is_text(column):
            continue
        values = pd.unique(column.dropna())
        if not values.size or values.size > _SAMPLE:
            continue
        spelled = pd.Series([str(v).strip().lower().lstrip("+-") for v in values])
        special = spelled.isin(["nan", "inf", "infinity"]).to_numpy()
        if not special.any():
            continue
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        if (numbers.notna().to_numpy() | special).all():
            converted[name] = pd.to_numeric(column.astype(object), errors="coerce")
    return frame.assign(**converted) if converted else frame


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return dtype == object or (pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_numeric_dtype(dtype))


def check_columns(frame: pd.DataFrame, numeric: Iterable[str], options: ReadOptions | None = None) -> None:
    """Refuse text columns that the model uses as numbers, or that are numbers written otherwise.

    Parameters
    ----------
    frame : DataFrame
    numeric : iterable of str
        Columns the formula uses as covariates or responses (not grouping factors only).
    options : ReadOptions, optional

    Raises
    ------
    DataError
        Numbers with decimal commas (suggests ``--decimal ,``), dates, or a numeric
        column with a few non-numeric values (the count and the first one).
    """
    options = options or ReadOptions()
    for name in numeric:
        if name not in frame.columns or not _is_text(frame[name]):
            continue
        column = frame[name].dropna()
        if column.empty:
            continue
        values = pd.Series(pd.unique(column)[:_SAMPLE], dtype=object).astype(str)
        numbers = pd.to_numeric(values, errors="coerce")
        words = values[numbers.isna()]
        if words.empty:
            continue
        if options.decimal != "," and words.map(lambda v: bool(_DECIMAL_COMMA.match(v))).mean() > 0.5:
            raise DataError(f"column {name!r} has numbers written with a decimal comma (e.g. {words.iloc[0]!r}): "
                            "add --decimal , (and --sep ';' if the fields are separated by ';')")
        if values.map(lambda v: bool(_DATE.match(v))).mean() >= 0.9:
            raise DataError(f"column {name!r} holds dates or times (e.g. {values.iloc[0]!r}), which are not numbers: "
                            "add a numeric column to the file (e.g. days since the first date) and use that; "
                            f"for one level per date use it as a grouping factor, (1 | {name})")
        stray = column.astype(str)
        is_word = pd.to_numeric(stray, errors="coerce").isna().to_numpy()
        count = int(is_word.sum())
        distinct_numbers = int(numbers.notna().sum())
        if count <= _STRAY_SHARE * len(stray) and distinct_numbers >= _MIN_NUMERIC_LEVELS:
            first = stray[is_word].iloc[0]
            row = int(stray.index[is_word][0]) + 2  # the header is line 1
            raise DataError(
                f"column {name!r} is numeric except for {count} value{'s' if count > 1 else ''} such as {first!r} "
                f"(line {row}): correct {'them' if count > 1 else 'it'}, or mark {'them' if count > 1 else 'it'} "
                f"missing with --na-values {first!r}"
            )


def check_output(path: str, inputs: Iterable[str] = (), overwrite: bool = False, resume: bool = False,
                 suffixes: tuple[str, ...] = (".parquet", ".pq", ".csv")) -> Path:
    """Refuse, before any work, an output that cannot be written or would destroy data.

    Parameters
    ----------
    path : str
        ``.parquet``, ``.pq`` or ``.csv``.
    inputs : iterable of str
        Files the run reads: the output must not be one of them (nor a link to one).
    overwrite : bool
        Replace an existing output.
    resume : bool
        Keep an existing output's rows (the run adds the missing ones).
    suffixes : tuple of str
        The file types the output may have.

    Returns
    -------
    Path

    Raises
    ------
    DataError
    """
    kinds = " or ".join(dict.fromkeys(s for s in suffixes if s != ".pq"))
    if path == STDIN or not path:
        raise DataError(f"--out needs a file name ending in {kinds} (standard output holds the summary)")
    file = Path(path)
    if file.is_dir():
        raise DataError(f"cannot write {path}: it is a directory; give a file name inside it, e.g. "
                        f"{file / ('results' + (file.suffix or '.parquet'))}")
    if file.suffix.lower() not in suffixes:
        raise DataError(f"cannot write {path}: the output must end in {kinds}")
    target = os.path.realpath(file)
    for source in inputs:
        if source == STDIN:
            continue
        same = os.path.realpath(source) == target
        if not same and file.exists() and Path(source).exists():
            try:
                same = os.path.samefile(source, file)
            except OSError:
                same = False
        if same:
            raise DataError(f"--out {path} is the data file the run reads: choose another name for the results "
                            "(the input is left unchanged)")
    folder = file.parent
    if not folder.is_dir():
        raise DataError(f"cannot write {path}: no such folder {folder}")
    try:
        probe, probe_name = tempfile.mkstemp(dir=folder, prefix=f".{file.name}.", suffix=".probe")
        os.close(probe)
        os.unlink(probe_name)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or _first_line(exc)} in folder {folder}") from None
    if (file.exists() or file.is_symlink()) and not (overwrite or resume):
        raise DataError(f"{path} already exists: add --overwrite to replace it, or --resume to keep its rows "
                        "and fit only what is missing")
    return file


def write_table(frame: pd.DataFrame, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write ``frame`` as Parquet (``.parquet``, ``.pq``) or CSV (``.csv``), atomically.

    The table goes to a temporary file in the same folder, which is renamed over
    ``path`` only when complete: an interruption leaves the previous file (or none),
    never half a table. A symbolic link at ``path`` is replaced, not followed.

    Parameters
    ----------
    frame : DataFrame
    path : str or Path
    metadata : dict, optional
        Key–value pairs stored in a Parquet file's schema (ignored for CSV).

    Raises
    ------
    DataError
        Another suffix, or a file that cannot be written.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in _PARQUET | {".csv"}:
        raise DataError(f"cannot write {path}: the output must end in .parquet or .csv")
    temp_name = ""
    try:
        descriptor, temp_name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
        with os.fdopen(descriptor, "wb") as handle:
            if suffix in _PARQUET:
                _write_parquet(frame, handle, metadata)
            else:
                frame.to_csv(handle, index=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        os.replace(temp_name, file)
        temp_name = ""
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow and the file system raise many types
        raise DataError(f"cannot write {path}: {_first_line(exc)}") from None
    finally:
        if temp_name:
            try:
                os.unlink(temp_name)
            except OSError:
                pass


def write_text(text: str, path: str | Path) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, as :func:`write_table` does.

    Raises
    ------
    DataError
        A file that cannot be written.
    """
    file = Path(path)
    temp_name = ""
    try:
        descriptor, temp_name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        os.replace(temp_name, file)
        temp_name = ""
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or _first_line(exc)}") from None
    finally:
        if temp_name:
            try:
                os.unlink(temp_name)
            except OSError:
                pass


def _write_parquet(frame: pd.DataFrame, handle: IO[bytes], metadata: dict[str, str] | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        merged = {**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}}
        table = table.replace_schema_metadata(merged)
    pq.write_table(table, handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_metadata(path: str | Path) -> dict[str, str]:
    """The key–value pairs stored by :func:`write_table` in a Parquet file (empty for CSV)."""
    file = Path(path)
    if file.suffix.lower() not in _PARQUET:
        return {}
    import pyarrow.parquet as pq

    try:
        raw = pq.read_schema(file).metadata or {}
    except Exception:  # noqa: BLE001 - a damaged file is reported when it is read
        return {}
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in raw.items() if k != b"pandas"}


def demo_data() -> pd.DataFrame:
    """The seed example shipped with lmmdx (8 groups × 20 observations, slope SD 0.05)."""
    with resources.files("lmmdx.data").joinpath("seed_example.csv").open("r") as handle:
        return pd.read_csv(handle)

