"""A batch's summary page (``lmmdx batch ... --report summary.html``): the finding codes as a bar
chart and a table of the worst fits. The page, figure and table helpers of :mod:`.page` are
the same for any other many-fit result (a planner's grid, say)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...finding import severity_rank
from ..figures.canvas import require_matplotlib, to_svg
from .page import Section, esc, figure, page, table

if TYPE_CHECKING:
    from ...batch import BatchResult

__all__ = ["WORST_ROWS", "batch_page", "worst_rows"]

#: Rows of the worst-fits table.
WORST_ROWS = 20
_VERSION = "0.1.0"


def worst_rows(result: BatchResult, limit: int = WORST_ROWS) -> list[int]:
    """Row positions of the worst fits: failed fits, then by worst severity, then by number of findings."""
    errors = result.table["error"].tolist() if "error" in result.table.columns else [None] * len(result.findings)

    def badness(i: int) -> tuple[int, int, int]:
        failed = 1 if isinstance(errors[i], str) else 0
        worst = max((severity_rank(f.severity) for f in result.findings[i]), default=-1)
        return (failed, worst, len(result.findings[i]))

    bad = [i for i in range(len(result.findings)) if badness(i) > (0, -1, 0)]
    return sorted(bad, key=lambda i: tuple(-v for v in badness(i)) + (i,))[:limit]


def _worst_table(result: BatchResult) -> str:
    rows_at = worst_rows(result)
    if not rows_at:
        return "<p>Every fit is clean: no finding, no error.</p>"
    frame = result.table
    key = frame.columns[0]
    body = []
    for i in rows_at:
        row = frame.iloc[i]
        error = row.get("error")
        failed = isinstance(error, str)
        worst = max((f.severity for f in result.findings[i]), key=severity_rank, default="")
        status = "failed" if failed else worst
        text = error if failed else "; ".join(
            f"{f.code}: {', '.join(f.parameters)}" if f.parameters else f.code for f in result.findings[i])
        body.append([esc(row[key]), f'<span class="badge {esc(status)}">{esc(status)}</span>', esc(text)])
    return table([esc(key), "Status", "Findings or error"], body)


def batch_page(result: BatchResult) -> str:
    """The summary page of a batch as one self-contained HTML document."""
    from ..figures.batch import CAPTION, batch_figure

    require_matplotlib()
    s = result.summary
    kind = "REML" if s.reml else "ML"
    share = f"{100 * s.clean_share:.1f}%" if s.n_fits else "–"
    header = (f"<h1>lmmdx batch summary</h1><p class=\"sub\"><code>{esc(s.formula)}</code> ({kind}): "
              f"{s.n_fits:,} fits, {s.n_fitted:,} fitted, {s.n_failed:,} failed; {s.n_clean:,} clean "
              f"({share} of all fits).</p>")
    findings = figure("codes", "Finding codes", CAPTION, to_svg(batch_figure(s), salt="lmmdx-codes"))
    if s.counts:
        findings += table(["Code", "Parameter", "Fits"], [[esc(c), esc(p), f"{n:,}"] for c, p, n in s.counts],
                          [False, False, True])
    if s.errors:
        findings += "<h3>Errors</h3>" + table(["Error", "Fits"], [[esc(m), f"{n:,}"] for m, n in s.errors],
                                              [False, True])
    sections = [Section("codes", "Findings across the batch", findings),
                Section("worst", f"Worst fits (at most {WORST_ROWS})", _worst_table(result))]
    return page(f"lmmdx batch: {s.formula}", header, sections,
                f"Written by lmmdx {_VERSION}. Self-contained: nothing is fetched when it is viewed.")
