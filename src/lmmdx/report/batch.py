"""Text of a batch's aggregated summary (:class:`~lmmdx.batch.BatchSummary`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..batch.summary import BatchSummary

__all__ = ["batch_summary_text"]


def _count(n: int, width: int) -> str:
    return f"{n:>{width},} fit{'s' if n != 1 else ' '}"


def batch_summary_text(summary: BatchSummary) -> str:
    """``412 fits: boundary, slope SD of x by g`` lines, errors, and the share of clean fits."""
    kind = "REML" if summary.reml else "ML"
    share = f"{100 * summary.clean_share:.1f}%" if summary.n_fits else "-"
    lines = [
        (f"{summary.n_fits:,} fits of {summary.formula} ({kind}): {summary.n_fitted:,} fitted, "
        f"{summary.n_failed:,} failed; {summary.n_clean:,} clean ({share} of all fits).")
    ]
    numbers = [n for _, _, n in summary.counts] + [n for _, n in summary.errors] + [summary.n_with_dropped]
    width = len(f"{max(numbers, default=0):,}")
    if summary.counts:
        lines.append("Findings:")
        lines += [f"  {_count(n, width)}: {code}" + (f", {parameter}" if parameter else "")
                  for code, parameter, n in summary.counts]
    if summary.errors:
        lines.append("Errors:")
        lines += [f"  {_count(n, width)}: {message}" for message, n in summary.errors]
    if summary.n_with_dropped:
        fits = "fit" if summary.n_with_dropped == 1 else "fits"
        rows = "row" if summary.rows_dropped == 1 else "rows"
        lines.append(f"Missing values: {summary.n_with_dropped:,} {fits} left out {summary.rows_dropped:,} {rows} "
                     "(rows with a missing value are dropped per fit).")
    return "\n".join(lines)
