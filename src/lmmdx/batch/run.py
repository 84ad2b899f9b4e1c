"""Fit one formula to many responses, or once per level of a column, in parallel.

With ``responses=[...]`` the formula's response is replaced by each column in
turn. The design (X, Z and the cross-products that do not involve y) is built
once from the covariates and shared (:class:`~lmmdx.batch.shared.SharedDesign`);
a response with missing values among the design's rows is fitted on its own
complete rows instead (dropped rows are counted). With ``by="col"`` the data are
split by the levels of ``col`` and each part is fitted on its own.

One bad fit never stops the batch: its row holds its one-line error. Workers are
processes (each with one BLAS thread); a callback reports progress.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..arguments import check_optimizer, check_reml
from ..design import build_design, check_response, used_columns
from ..design.evaluate import columns_read
from ..design.frame import as_pandas
from ..errors import DataError, LmmdxError
from ..finding import Finding
from ..fitting import fit_design, fit_model
from ..formula import parse_formula
from ..formula.terms import ModelFormula
from ..model import Model
from ..workers import WorkerPool, worker_count
from .record import STATUS_COLUMNS, error_row, fit_row
from .shared import SharedDesign
from .summary import BatchSummary, Outcome, summarise

__all__ = ["BatchJob", "BatchResult", "covariates", "fit_many", "level_keys", "run_chunk"]

#: Name of the placeholder response of the shared design (never shown).
_TEMPLATE = "__lmmdx_template_response__"
#: Fits per task sent to a worker, at most (smaller batches are split evenly).
_MAX_CHUNK = 200

Progress = Callable[[int, int], None]
Sink = Callable[[list[dict[str, Any]]], None]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The fits of a batch.

    Attributes
    ----------
    table : DataFrame
        One row per response (column ``response``) or per level (column named after
        ``by``), in input order: status, estimates, SEs, variance components,
        finding codes, or the one-line error (see :mod:`lmmdx.batch.record`).
    summary : BatchSummary
        Counts per finding code and parameter, errors, share of clean fits.
    findings : tuple of tuple of Finding
        The findings of each row.
    seconds : float
        Wall-clock time of the batch.
    """

    table: pd.DataFrame
    summary: BatchSummary
    findings: tuple[tuple[Finding, ...], ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class BatchJob:
    """Everything a worker needs (inherited by forked workers, pickled otherwise)."""

    formula: ModelFormula
    frame: pd.DataFrame
    keys: tuple[str, ...]
    by: str | None
    reml: bool
    optimizer: str
    shared: SharedDesign | None
    rows: np.ndarray | None
    levels: tuple[np.ndarray, ...] | None

    def common(self) -> BatchJob:
        """What every chunk needs: without ``responses``' own columns (a chunk brings its own)."""
        if self.by is not None:
            return self
        return replace(self, frame=self.frame.drop(columns=list(self.keys)))

    def columns(self, indices: Sequence[int]) -> pd.DataFrame | None:
        """The data a chunk of fits brings to :meth:`common`: its response columns (None for ``by``)."""
        if self.by is not None:
            return None
        return self.frame.loc[:, [self.keys[i] for i in indices]]

    def with_columns(self, columns: pd.DataFrame | None) -> BatchJob:
        """:meth:`common` with a chunk's :meth:`columns` put back."""
        if columns is None:
            return self
        return replace(self, frame=pd.concat([self.frame, columns], axis=1))


_Result = tuple[int, dict[str, Any], tuple[Finding, ...], Outcome]
_JOB: BatchJob | None = None
_LIMITS: Any = None


def _with_response(formula: ModelFormula, name: str) -> ModelFormula:
    """The model for the response column ``name`` (the name is a column, never parsed)."""
    return formula.with_response(name)


def _plain_numeric(column: pd.Series) -> bool:
    dtype = column.dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "fiu"


def _fit_response(job: BatchJob, name: str) -> tuple[dict[str, Any], tuple[Finding, ...], int]:
    formula = _with_response(job.formula, name)
    column = job.frame[name]
    if job.shared is not None and job.rows is not None and _plain_numeric(column):
        y = column.to_numpy(dtype=np.float64)[job.rows]
        if not np.isnan(y).any():
            check_response(y, name)
            offset = job.shared.template.design.offset
            model = job.shared.model_for(y if offset is None else y - offset)
            model = replace(model, design=replace(model.design, formula=formula))
            fit = fit_model(model, reml=job.reml, optimizer=job.optimizer)
            row, findings = fit_row(fit, fit.n_missing)
            return row, findings, fit.n_missing
    design = build_design(formula, job.frame)
    fit = fit_design(design, reml=job.reml, optimizer=job.optimizer)
    row, findings = fit_row(fit, design.n_missing)
    return row, findings, design.n_missing


def _fit_level(job: BatchJob, index: int) -> tuple[dict[str, Any], tuple[Finding, ...], int]:
    assert job.levels is not None
    design = build_design(job.formula, job.frame.iloc[job.levels[index]])
    fit = fit_design(design, reml=job.reml, optimizer=job.optimizer)
    row, findings = fit_row(fit, design.n_missing)
    return row, findings, design.n_missing


def _run_one(job: BatchJob, index: int) -> _Result:
    key = job.keys[index]
    try:
        if job.by is None:
            row, findings, dropped = _fit_response(job, key)
        else:
            row, findings, dropped = _fit_level(job, index)
    except LmmdxError as exc:
        message = str(exc)
        generic = message.replace(repr(key), "'<response>'") if job.by is None else message
        return index, error_row(message), (), Outcome((), generic, 0)
    except Exception as exc:  # noqa: BLE001 - one bad fit must not stop a batch of thousands
        text = str(exc).strip().splitlines()
        message = f"internal error: {type(exc).__name__}: {text[0] if text else ''}"
        return index, error_row(message), (), Outcome((), message, 0)
    pairs = tuple((f.code, p) for f in findings for p in (f.parameters or ("",)))
    return index, row, findings, Outcome(pairs, None, dropped)


def run_chunk(job: BatchJob, indices: Sequence[int]) -> list[_Result]:
    """Fit ``indices`` of ``job.keys``: ``(index, row, findings, outcome)`` each, errors in their rows."""
    return [_run_one(job, index) for index in indices]


def _run_chunk(indices: list[int]) -> list[_Result]:
    assert _JOB is not None
    return run_chunk(_JOB, indices)


def _start_worker(job: BatchJob) -> None:
    global _JOB, _LIMITS
    _JOB = job
    _LIMITS = threadpool_limits(1)  # one BLAS thread per process: the matrices are small


def _chunks(indices: list[int], workers: int) -> list[list[int]]:
    total = len(indices)
    size = max(1, min(_MAX_CHUNK, total // max(1, workers * 8)))
    return [indices[start:start + size] for start in range(0, total, size)]


def _table_rows(job: BatchJob, part: list[_Result]) -> list[dict[str, Any]]:
    key_column = "response" if job.by is None else job.by
    return [{key_column: job.keys[i], **row} for i, row, _, _ in part]


def _execute(job: BatchJob, indices: list[int], workers: int, progress: Progress | None,
             sink: Sink | None, client: Any = None) -> list[_Result]:
    """Fit ``indices`` of ``job.keys``; each finished chunk goes to ``sink`` as soon as it is done."""
    total = len(indices)
    if client is not None:  # a Dask cluster (lmmdx.distributed sits above batch: imported only then)
        from ..distributed.batch import cluster_workers
        workers = cluster_workers(client)
    else:
        workers = worker_count(workers, total)
    chunks = _chunks(indices, workers)
    results: list[_Result] = []
    if progress is not None:
        progress(0, total)

    def collect(part: list[_Result]) -> None:
        results.extend(part)
        if sink is not None:
            sink(_table_rows(job, part))
        if progress is not None:
            progress(len(results), total)

    if client is not None:
        from ..distributed.batch import run_chunks

        run_chunks(client, job, chunks, collect)
        return results
    if workers <= 1 or len(chunks) <= 1:
        global _JOB
        previous, _JOB = _JOB, job
        try:
            with threadpool_limits(1):
                for chunk in chunks:
                    collect(_run_chunk(chunk))
        finally:
            _JOB = previous
        return results
    with WorkerPool(workers, _start_worker, (job,)) as pool:
        for part in pool.imap_unordered(_run_chunk, chunks):
            collect(part)
    return results


def _shared_design(formula: ModelFormula, frame: pd.DataFrame, first: str) -> tuple[SharedDesign, np.ndarray]:
    """The design of the covariates with a placeholder response, and its rows' positions in ``frame``."""
    covariates = [c for c in used_columns(_with_response(formula, first), frame) if c != first]
    template = frame.loc[:, covariates].assign(**{_TEMPLATE: np.arange(len(frame), dtype=np.float64)})
    design = build_design(formula.with_response(_TEMPLATE), template)
    rows = np.asarray(frame.index.get_indexer(design.row_index), dtype=np.int64)
    return SharedDesign.from_model(Model.from_design(design)), rows


def _names(responses: Any) -> tuple[str, ...]:
    if isinstance(responses, str):
        return (responses,)
    if not isinstance(responses, Sequence) and not isinstance(responses, (set, frozenset, pd.Index)):
        raise DataError(f"responses= must be a list of column names, not {type(responses).__name__}")
    names = tuple(responses)
    odd = [r for r in names if not isinstance(r, str)]
    if odd:
        raise DataError(f"responses= must list column names as strings; got {odd[0]!r} "
                        f"({type(odd[0]).__name__}): write str(name)")
    twice = [name for name, count in Counter(names).items() if count > 1]
    if twice:
        raise DataError(f"responses= lists {twice[0]!r} {Counter(names)[twice[0]]} times: give each column once")
    return names


def _validate(frame: pd.DataFrame, formula: ModelFormula, responses: Any, by: str | None) -> tuple[str, ...]:
    if (responses is None) == (by is None):
        raise DataError("give either responses=[...] (one fit per response column) or by=COLUMN "
                        "(one fit per level), not both and not neither")
    if by is not None:
        if not isinstance(by, str):
            raise DataError(f"by= must be a column name (a string), not {type(by).__name__}")
        if by not in frame.columns:
            raise DataError(f"unknown column {by!r} given as by=")
        return ()
    names = _names(responses)
    if not names:
        raise DataError("responses= is empty: name at least one response column")
    unknown = [r for r in names if r not in frame.columns]
    if unknown:
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise DataError(f"unknown response column(s) {', '.join(map(repr, unknown[:5]))}{more}")
    used = covariates(formula, frame)
    clash = [r for r in names if r in used]
    if clash:
        raise DataError(f"the response column {clash[0]!r} is also used on the right-hand side of "
                        f"{formula.text!r}: leave it out of the responses")
    return names


def _levels(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    codes, uniques = pd.factorize(column, sort=True)
    return codes, tuple(str(u) for u in uniques)


def level_keys(column: pd.Series) -> tuple[str, ...]:
    """The keys of a ``by=`` batch: the column's levels, sorted, as strings (missing left out)."""
    return _levels(column)[1]


def covariates(formula: ModelFormula, frame: pd.DataFrame) -> set[str]:
    """Columns the formula uses other than its response (covariates and grouping factors).

    Raises
    ------
    DataError
        A column the formula names is not in ``frame``.
    """
    probe = frame.iloc[:0]
    name = formula.response_column
    if name is not None and name not in probe.columns:
        probe = probe.assign(**{name: pd.Series(dtype=np.float64)})
    response = set(columns_read(formula.response, probe.columns, "response"))
    return set(used_columns(formula, probe)) - response


def fit_many(
    formula: str,
    data: Any,
    responses: Sequence[str] | None = None,
    by: str | None = None,
    reml: bool = True,
    optimizer: str = "bobyqa",
    workers: int = 1,
    progress: Progress | None = None,
    sink: Sink | None = None,
    skip: Collection[str] = (),
    client: Any = None,
) -> BatchResult:
    """Fit ``formula`` to many responses, or once per level of a column.

    Parameters
    ----------
    formula : str
        An lme4 formula; with ``responses`` its response is replaced by each column in turn.
    data : pandas, polars or pyarrow table
    responses : sequence of str, optional
        Response columns, one fit each, sharing the design built once.
    by : str, optional
        A column: one fit per level (rows with a missing level are left out).
    reml : bool
    optimizer : str
    workers : int
        Worker processes (1: fit in this process; 0: one per CPU); never more than the CPUs.
        Workers exit when this process dies, and stop at once when it is interrupted.
    progress : callable(done, total), optional
        Called as fits complete.
    sink : callable(rows), optional
        Called in this process with the table rows (dicts, key column first) of each group
        of fits as soon as it finishes, so that a caller can save them before the batch ends.
    skip : collection of str
        Responses or levels (as strings) not to fit, e.g. those already in a resumed output;
        they are absent from the result.
    client : dask.distributed.Client, optional
        Fit on this Dask cluster instead (``workers`` is then ignored): the shared design is
        sent to every worker once, the responses go in chunks, and a chunk lost with its worker
        is fitted again (:mod:`lmmdx.distributed.batch`). Same table as without. Needs
        ``pip install 'lmmdx[dask]'``.

    Returns
    -------
    BatchResult
        A row per response or level (its estimates or its one-line error) and the
        aggregated summary.

    Raises
    ------
    LmmdxError
        Only for problems of the whole batch (formula, unknown columns, a design
        that no response could be fitted with); a single fit's error goes to its row.
    """
    start = time.perf_counter()
    parsed = parse_formula(formula)
    frame = as_pandas(data)
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    reml, optimizer = check_reml(reml), check_optimizer(optimizer)
    names = _validate(frame, parsed, responses, by)
    shared, rows, levels = None, None, None
    skipped = {str(s) for s in skip}
    if by is None:
        keys = names
        todo = [i for i, key in enumerate(keys) if key not in skipped]
        if todo:
            shared, rows = _shared_design(parsed, frame, keys[todo[0]])
    else:
        codes, keys = _levels(frame[by])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
        levels = tuple(order[bounds[i]:bounds[i + 1]] for i in range(len(keys)))
        todo = [i for i, key in enumerate(keys) if key not in skipped]
    job = BatchJob(parsed, frame, keys, by, reml, optimizer, shared, rows, levels)
    results = sorted(_execute(job, todo, workers, progress, sink, client), key=lambda r: r[0])
    key_column = "response" if by is None else by
    table = pd.DataFrame([{key_column: keys[i], **row} for i, row, _, _ in results])
    if table.empty:
        table = pd.DataFrame(columns=[key_column, *STATUS_COLUMNS])
    summary = summarise(parsed.text, reml, (outcome for *_, outcome in results))
    return BatchResult(table, summary, tuple(f for _, _, f, _ in results), time.perf_counter() - start)
