"""Fit a linear mixed model to a ``dask.dataframe.DataFrame`` that does not fit in memory.

The criterion over θ needs only the cross-product blocks of ``[Z, X, y]``, and the blocks are sums
over rows (:mod:`lmmdx.engine.crossprod`), so each partition is reduced on its worker to small
arrays and only those reach the client. Passes over the data (each partition read by its worker,
one at a time per worker thread):

1. **levels**: one row per level of every factor and grouping factor (:func:`representatives`),
   and the row counts; the pad of :mod:`lmmdx.distributed.partition` is made from them.
2. **checks and scaling**: per partition, the formula evaluated by the in-memory code; moments,
   minima and maxima of every column and the QR factor of ``[X y]``. The client then runs the
   design's checks on the whole data (the same functions as :func:`~lmmdx.design.build_design`:
   the response's checks, magnitudes, aliased columns from the QR factor, lme4's level checks, the
   exact-fit refusal) and the internal scaling (:meth:`Model.from_design` on two rows with the
   data's moments, so the scaling's rule is the in-memory one).
3. **blocks**: the cross-product blocks of each partition on that scale, summed in partition order
   (so the answer does not depend on which worker finished first).

The optimisation, the certificate, the estimates and the conditional modes come from the blocks
on the client (:func:`lmmdx.fitting.fit_model`). A fourth pass gives the residuals' moments. What
needs the rows again and again (profile intervals, the diagnosis's refits, bootstrap, residual
quartiles) is not computed: :attr:`DaskFit.skipped` says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..arguments import check_optimizer, check_reml
from ..blas import dense_threads
from ..design import Design, check_response, used_columns
from ..design.design import check_levels, check_repeated
from ..design.exact import EXACT_FIT_SHARE, exact_fit_message
from ..design.fixed import FixedEffects, aliased_columns
from ..design.grouping import GroupingFactor
from ..design.matrix import check_values, column_count
from ..design.random import ReBlock
from ..engine import Blocks, ProfiledDeviance
from ..errors import DataError, FormulaError
from ..fitting import fit_model
from ..formula import parse_formula
from ..formula.terms import ModelFormula
from ..model import Model
from ..result import Fit
from .partition import (
    Moments,
    Plan,
    RowStats,
    partition_blocks,
    partition_design,
    partition_residuals,
    partition_stats,
    representatives,
    row_dependent_calls,
    with_keep,
)
from .require import require_dask

__all__ = ["PASSES", "DaskFit", "ResidualSummary", "fit_dask", "is_dask_frame", "read_parquet"]

#: Passes over the data of a fit with residuals (levels, checks and scaling, blocks, residuals).
PASSES = 4

#: What an out-of-core fit does not compute, and why.
SKIPPED = (
    ("residual quartiles", "a sort of every row; the scaled residuals' minimum, maximum, mean and SD are given"),
    ("profile intervals", "each step of a profile refits the model on the rows (a pass over the data per step)"),
    ("bootstrap", "each refit needs the rows"),
    ("diagnosis", "its checks refit and read the rows; diagnose a sample with lmmdx diagnose"),
    ("Kenward-Roger df", "needs the rows' design matrices; Satterthwaite df are given"),
)

Progress = Callable[[int, int], None]


def is_dask_frame(data: Any) -> bool:
    """Whether ``data`` is a ``dask.dataframe.DataFrame`` (without importing dask)."""
    module = type(data).__module__
    return module.split(".")[0] == "dask" and hasattr(data, "to_delayed") and hasattr(data, "npartitions")


@dataclass(frozen=True, slots=True)
class ResidualSummary:
    """Moments of the scaled residuals (response − fitted, divided by σ) over every row."""

    n: int
    minimum: float
    maximum: float
    mean: float
    sd: float


@dataclass(frozen=True)
class DaskFit:
    """An out-of-core fit: the estimates of a :class:`~lmmdx.result.Fit`, from the blocks.

    Attributes
    ----------
    fit : Fit
        The estimates, SEs, variance components, conditional modes, certificate, warnings. Its
        ``fitted`` and ``residuals`` are empty (they would be as long as the data) and its methods
        that need rows (``diagnose``, ``profile``, ``remedies``) are not available through it.
    partitions : int
    residuals : ResidualSummary or None
        From the residuals' pass (None when it was not asked for).
    skipped : tuple of (str, str)
        What was not computed, and why.
    """

    fit: Fit
    partitions: int
    residuals: ResidualSummary | None
    skipped: tuple[tuple[str, str], ...] = field(default=SKIPPED)

    def __getattr__(self, name: str) -> Any:
        if name in _ESTIMATES:
            return getattr(self.fit, name)
        raise AttributeError(f"an out-of-core fit has no {name!r}: {', '.join(s for s, _ in self.skipped)} need the "
                             "rows; the estimates are attributes (beta, sigma, theta, ...) and .fit")

    def tests(self) -> Any:
        """Satterthwaite's t tests of the fixed effects (from the blocks)."""
        from ..inference.ddf import Tester

        return Tester(self.fit, "satterthwaite")

    def summary(self) -> str:
        """lme4's summary, with Satterthwaite's df; the scaled residuals' moments instead of quartiles."""
        from ..report.text import fit_summary

        tester = self.tests()
        lines = [fit_summary(self.fit, tester.coefficients(), tester.check(), tester.method), "",
                 f"Out-of-core fit over {self.partitions:,} partitions (Dask)."]
        res = self.residuals
        if res is not None:
            lines.append(f"Scaled residuals: min {res.minimum:.4f}, max {res.maximum:.4f}, mean {res.mean:.4f}, "
                         f"SD {res.sd:.4f} over {res.n:,} rows")
        lines += [f"Not computed: {what} ({why})." for what, why in self.skipped]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The fit's JSON (as ``lmmdx fit --json``) with ``out_of_core`` (partitions, residuals, skipped)."""
        from ..report.payload import fit_payload

        tester = self.tests()
        payload = fit_payload(self.fit, tester.coefficients(), tester.check())
        res = self.residuals
        payload["out_of_core"] = {
            "partitions": self.partitions,
            "scaled_residuals": None if res is None else {"n": res.n, "min": res.minimum, "max": res.maximum,
                                                          "mean": res.mean, "sd": res.sd},
            "skipped": [{"what": what, "why": why} for what, why in self.skipped],
        }
        return payload


_ESTIMATES = frozenset({
    "formula", "reml", "nobs", "ngroups", "objective", "theta", "theta_names", "fixed_names", "beta", "vcov_beta",
    "sigma", "random_effects", "correlations", "conditional_modes", "converged", "singular", "warnings",
    "optimizer", "dropped_fixed", "n_missing", "theta_internal", "std_errors", "fixed_effects", "certificate",
    "loglik", "aic", "bic", "deviance", "npar", "df_resid", "boundary_parameters", "model",
})


class _Runner:
    """Map a function over the partitions on the cluster; results in partition order."""

    def __init__(self, client: Any, partitions: Sequence[Any], progress: Progress | None, passes: int) -> None:
        self.client = client
        self.partitions = partitions
        self.progress = progress
        self.done = 0
        self.total = passes * len(partitions)
        if progress is not None:
            progress(0, self.total)

    def map(self, function: Callable[..., Any], *args: Any) -> Iterator[Any]:
        """``function(*args, partition)`` for each partition, yielded in partition order."""
        import dask

        shared = [dask.delayed(a, traverse=False) for a in args]
        tasks = [dask.delayed(function, pure=True)(*shared, part) for part in self.partitions]
        if self.client is None:
            for result in dask.compute(*tasks, scheduler="threads"):
                self._tick()
                yield result
            return
        from distributed import as_completed

        futures = self.client.compute(tasks)
        index = {future.key: i for i, future in enumerate(futures)}
        ready: dict[int, Any] = {}
        cursor = 0
        try:
            for future in as_completed(futures):
                ready[index[future.key]] = future.result()
                future.release()
                self._tick()
                while cursor in ready:
                    yield ready.pop(cursor)
                    cursor += 1
        finally:
            self.client.cancel(futures, force=True)

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _reps(formula: ModelFormula, parts: Iterator[tuple[pd.DataFrame, int]]) -> tuple[pd.DataFrame, int]:
    """The representatives of the whole data, folded in partition order, and the number of rows."""
    reps: pd.DataFrame | None = None
    rows = 0
    for part, count in parts:
        rows += count
        reps = part if reps is None else representatives(formula, pd.concat([reps, part], ignore_index=True))
    assert reps is not None
    return reps, rows


def _levels_pass(formula: ModelFormula, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    return representatives(formula, frame), len(frame)


def _pad(formula: ModelFormula, reps: pd.DataFrame) -> pd.DataFrame:
    """The representatives, repeated to at least as many rows as the widest model matrix."""
    from ..design.design import model_data

    variables = model_data(formula, reps).variables
    width = max([column_count(formula.fixed, variables), *(column_count(t.lhs, variables) for t in formula.random)])
    pad = pd.concat([reps] * max(1, math.ceil(width / len(reps))), ignore_index=True)
    pad.index = -1 - np.arange(len(pad))
    return pad


def _no_rows(rows: int, used: list[str]) -> DataError:
    if not rows:
        return DataError("the data have no rows")
    return DataError(f"no rows left: all {rows} rows have a missing value in {', '.join(map(repr, used))}")


def _check(plan: Plan, stats: RowStats) -> tuple[np.ndarray, Design]:
    """The design's checks on the whole data; the columns of X kept and the row-free design."""
    formula = plan.formula
    skeleton = partition_design(plan, plan.pad.iloc[:0]).design  # names, levels and effects, no rows
    x_names = skeleton.fixed.names
    n = stats.y.n
    label = formula.response_label
    response = stats.response
    if response.low[0] == response.high[0]:
        check_response(np.broadcast_to(response.low, (n,)), label)
    check_response(response.extremes()[:, 0], label)
    p_all = len(x_names)
    check_values(stats.x.extremes(), x_names, "fixed-effects")
    alias = aliased_columns(stats.r[:, :p_all]) if p_all else np.zeros(0, dtype=bool)
    keep = ~alias
    p = int(keep.sum())
    if p >= n:
        raise DataError(
            f"the fixed part has {p} columns (aliased ones dropped) but there are only "
            f"{n} observations: nothing is left to estimate the variances; simplify the fixed part"
        )
    kept_names = tuple(name for name, k in zip(x_names, keep, strict=True) if k)
    intercept = "(Intercept)" in kept_names
    y = stats.y
    total = float(y.m2[0]) if intercept else float(y.m2[0] + n * y.mean[0] ** 2)
    if total > 0 and np.isfinite(total):
        share = float(stats.r[p_all, p_all] ** 2) / total
        if np.isfinite(share) and share < EXACT_FIT_SHARE:
            raise DataError(exact_fit_message(label, share))
    in_formula_order = sorted(zip(skeleton.blocks, stats.terms, strict=True),
                              key=lambda pair: formula.random.index(pair[0].term))
    built: list[ReBlock] = []
    for block, moments in in_formula_order:
        check_values(moments.extremes(), block.columns, f"random term {block.term.text}")
        check_repeated(built, block.term, block.columns)
        built.append(block)
    check_levels(built, n)
    dropped = tuple(name for name, k in zip(x_names, keep, strict=True) if not k)
    fixed = FixedEffects(np.empty((0, p)), kept_names, dropped)
    design = Design(formula, np.empty(0), fixed, skeleton.blocks, stats.n_missing, np.empty(0, dtype=np.int64),
                    plan.pad.iloc[:0], np.empty(0) if formula.fixed.offsets else None)
    return keep, design


def _scaling(design: Design, stats: RowStats, keep: np.ndarray) -> Any:
    """The internal scaling of the whole data, by the in-memory rule (:meth:`Model.from_design`) applied
    to two rows with the data's moments: per column its mean, spread and root mean square."""
    x = stats.x.synthetic()[:, keep]
    blocks = tuple(ReBlock(b.term, GroupingFactor(b.factor.name, np.array([0, 1]), ("a", "b")), b.columns,
                           m.synthetic(), b.effects) for b, m in zip(design.blocks, stats.terms, strict=True))
    two = Design(design.formula, stats.y.synthetic()[:, 0], FixedEffects(x, design.fixed.names, ()), blocks, 0,
                 np.arange(2), design.frame)
    return Model.from_design(two).scaling


def _sum_blocks(parts: Iterator[tuple[Blocks, int]]) -> Blocks:
    """The blocks of every partition added up, in partition order."""
    total: Blocks | None = None
    dense: np.ndarray | None = None
    for blocks, _ in parts:
        if total is None:
            total = blocks
            if len(blocks.levels) == 1:  # RᵀZ₁ is dense ((p + 1) × ℓ₁k₁): add it densely, store every entry
                dense = blocks.a21.toarray()
            continue
        if dense is not None:
            dense += blocks.a21.toarray()
            a21 = total.a21
        else:
            a21 = sp.csc_array(total.a21 + blocks.a21)
        total = Blocks(total.n + blocks.n, total.p, total.levels, total.sizes, total.a11 + blocks.a11, a21,
                       total.a22 + blocks.a22, total.members)
    assert total is not None
    if dense is not None:
        r, c = dense.shape
        indptr = np.arange(0, r * c + 1, r, dtype=np.int64)
        a21 = sp.csc_array((dense.T.ravel(), np.tile(np.arange(r, dtype=np.int64), c), indptr), shape=(r, c))
        total = Blocks(total.n, total.p, total.levels, total.sizes, total.a11, a21, total.a22, total.members)
    return total


def _residuals(fit: Fit, parts: Iterator[Moments]) -> ResidualSummary:
    total: Moments | None = None
    for moments in parts:
        total = moments if total is None else total.merge(moments)
    assert total is not None
    sd = fit.sigma if fit.sigma > 0 else 1.0
    return ResidualSummary(total.n, float(total.low[0]) / sd, float(total.high[0]) / sd, float(total.mean[0]) / sd,
                           float(np.sqrt(total.m2[0] / max(total.n - 1, 1))) / sd)


def read_parquet(path: str, formula: str) -> Any:
    """The columns ``formula`` uses from Parquet (a file, a folder or a pattern), as a dask DataFrame.

    Raises
    ------
    DataError
        Nothing to read there, not Parquet, or a column the formula names is missing.
    """
    require_dask()
    import dask.dataframe as dd

    parsed = parse_formula(formula)
    try:
        frame = dd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - file systems and pyarrow raise many types: one line
        text = str(exc).strip().splitlines()
        raise DataError(f"cannot read {path} as Parquet: {text[0] if text else type(exc).__name__} (give a file, a "
                        "folder of Parquet files or a pattern such as 'data/*.parquet')") from None
    if not len(frame.columns):
        raise DataError(f"no Parquet data at {path}: give a file, a folder of Parquet files or a pattern such as "
                        "'data/*.parquet'")
    return frame[used_columns(parsed, frame._meta)]


def fit_dask(formula: str, data: Any, reml: bool = True, optimizer: str = "bobyqa", client: Any = None,
             residuals: bool = True, progress: Progress | None = None) -> DaskFit:
    """Fit ``formula`` to a ``dask.dataframe.DataFrame``, partition by partition.

    Parameters
    ----------
    formula : str
    data : dask.dataframe.DataFrame
        Only the columns the formula uses are read.
    reml : bool
    optimizer : str
    client : dask.distributed.Client, optional
        Default: the current client, if any (``distributed.get_client()``), else dask's threads.
    residuals : bool
        Make the fourth pass, for the residuals' moments.
    progress : callable(done, total), optional
        Called as partitions are done (``total`` counts every pass).

    Returns
    -------
    DaskFit

    Raises
    ------
    LmmdxError
        As :func:`lmmdx.fit` for the same data; also a formula with ``scale()`` or ``poly()``.
    """
    require_dask()
    parsed = parse_formula(formula)
    reml, optimizer = check_reml(reml), check_optimizer(optimizer)
    if not parsed.random:
        raise FormulaError(
            f"the formula {parsed.text!r} has no random-effects term such as (1 | group); "
            "for a model without random effects use ordinary least squares"
        )
    whole = row_dependent_calls(parsed)
    if whole:
        raise DataError(f"{whole[0]} uses every row of the data, but an out-of-core fit evaluates the formula one "
                        "partition at a time: compute it as a column first (or fit in memory)")
    meta = data._meta
    used = used_columns(parsed, meta)
    for name in used:
        dtype = meta[name].dtype
        if isinstance(dtype, pd.CategoricalDtype) and not data[name].cat.known:
            raise DataError(f"the categorical column {name!r} has categories that dask does not know yet: call "
                            f"ddf.categorize(columns=[{name!r}]) first (or read it as text)")
    if client is None:
        try:
            from distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
    partitions = data[used].to_delayed()
    runner = _Runner(client, partitions, progress, PASSES if residuals else PASSES - 1)
    with warnings.catch_warnings():  # "large object in the task graph": the pad travels with the tasks once
        warnings.simplefilter("ignore", UserWarning)
        reps, rows = _reps(parsed, runner.map(_levels_pass, parsed))
        if reps.empty:
            raise _no_rows(rows, used)
        plan = Plan(parsed, _pad(parsed, reps))
        stats: RowStats | None = None
        for part in runner.map(partition_stats, plan):
            stats = part if stats is None else stats.merge(part)
        assert stats is not None
        keep, design = _check(plan, stats)
        scaling = _scaling(design, stats, keep)
        plan = with_keep(plan, keep, scaling)
        blocks = _sum_blocks(runner.map(partition_blocks, plan))
        model = Model(design, scaling, blocks, ProfiledDeviance(blocks, dense_threads(blocks.m)))
        fit = fit_model(model, reml=reml, optimizer=optimizer)
        summary = None
        if residuals:
            modes = tuple(np.asarray(m.values) for m in fit.conditional_modes)
            summary = _residuals(fit, runner.map(partition_residuals, plan, np.asarray(fit.beta), modes))
    return DaskFit(fit, len(partitions), summary)
