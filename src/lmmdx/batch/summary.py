"""The aggregated summary of a batch: counts per finding code and parameter, errors, clean share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchSummary", "Outcome", "summarise"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the summary needs from one fit.

    Attributes
    ----------
    pairs : tuple of (str, str)
        ``(code, parameter)`` of each finding; parameter ``""`` for findings without one.
    error : str or None
        The fit's one-line error, with the response's own name replaced by ``<response>``.
    n_dropped : int
        Rows left out for missing values.
    """

    pairs: tuple[tuple[str, str], ...]
    error: str | None
    n_dropped: int


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Counts over the fits of a batch.

    Attributes
    ----------
    formula : str
    reml : bool
    n_fits : int
        Fits attempted (one per response or level).
    n_failed : int
        Fits that raised an error.
    n_clean : int
        Fits without any finding.
    counts : tuple of (str, str, int)
        ``(code, parameter, fits)``, most frequent first.
    errors : tuple of (str, int)
        ``(message, fits)``, most frequent first.
    n_with_dropped : int
        Fits that left rows out for missing values.
    rows_dropped : int
        Rows left out, summed over the fits.
    """

    formula: str
    reml: bool
    n_fits: int
    n_failed: int
    n_clean: int
    counts: tuple[tuple[str, str, int], ...]
    errors: tuple[tuple[str, int], ...]
    n_with_dropped: int
    rows_dropped: int

    @property
    def n_fitted(self) -> int:
        """Fits that returned estimates."""
        return self.n_fits - self.n_failed

    @property
    def clean_share(self) -> float:
        """Share of all fits that are clean (no finding, no error); NaN for an empty batch."""
        return self.n_clean / self.n_fits if self.n_fits else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-safe)."""
        return {
            "formula": self.formula,
            "reml": self.reml,
            "fits": self.n_fits,
            "fitted": self.n_fitted,
            "failed": self.n_failed,
            "clean": self.n_clean,
            "clean_share": None if not self.n_fits else self.clean_share,
            "findings": [{"code": c, "parameter": p, "fits": n} for c, p, n in self.counts],
            "errors": [{"error": e, "fits": n} for e, n in self.errors],
            "fits_with_dropped_rows": self.n_with_dropped,
            "rows_dropped": self.rows_dropped,
        }

    def text(self) -> str:
        """The summary as a few lines of text."""
        from ..report.batch import batch_summary_text

        return batch_summary_text(self)


def summarise(formula: str, reml: bool, outcomes: Iterable[Outcome]) -> BatchSummary:
    """Aggregate the outcomes of a batch."""
    counts: Counter[tuple[str, str]] = Counter()
    errors: Counter[str] = Counter()
    n_fits = n_clean = n_with_dropped = rows_dropped = 0
    for outcome in outcomes:
        n_fits += 1
        if outcome.n_dropped:
            n_with_dropped += 1
            rows_dropped += outcome.n_dropped
        if outcome.error is not None:
            errors[outcome.error] += 1
            continue
        if not outcome.pairs:
            n_clean += 1
        counts.update(set(outcome.pairs))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return BatchSummary(
        formula=formula,
        reml=reml,
        n_fits=n_fits,
        n_failed=sum(errors.values()),
        n_clean=n_clean,
        counts=tuple((code, parameter, n) for (code, parameter), n in ordered),
        errors=tuple(sorted(errors.items(), key=lambda item: (-item[1], item[0]))),
        n_with_dropped=n_with_dropped,
        rows_dropped=rows_dropped,
    )
