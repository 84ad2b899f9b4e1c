"""The HTML page: one self-contained document (styles inline, figures as inline SVG, no script).

Everything here is formatting: escaping, numbers, tables, figures with captions, sections and
the page around them. Nothing is fetched when the page is viewed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CSS", "Section", "esc", "figure", "fragment", "key_values", "light", "note", "num", "p_value", "page", "table"]

#: The page's style rules, one complete rule per entry (a notebook fragment takes the class rules).
_RULES = (
    (":root { --ink: #1d1d1f; --muted: #666; --line: #ddd; --soft: #f6f7f9; --green: #1b7f3b; --amber: #c77c02; "
    "--red: #c0392b; --blue: #0072B2; }"),
    "* { box-sizing: border-box; }",
    ("body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; "
    "color: var(--ink); margin: 0; background: #fff; }"),
    "main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 60px; }",
    "h1 { font-size: 22px; margin: 0 0 4px; }",
    "h2 { font-size: 18px; margin: 34px 0 10px; padding-top: 8px; border-top: 2px solid var(--line); }",
    "h3 { font-size: 15px; margin: 20px 0 8px; }",
    "code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }",
    "nav { font-size: 13px; margin: 10px 0 4px; }",
    "nav a { margin-right: 14px; color: var(--blue); text-decoration: none; }",
    "table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }",
    "th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }",
    "th { background: var(--soft); font-weight: 600; }",
    "details { margin: 6px 0 10px; }",
    "summary { cursor: pointer; color: var(--blue); }",
    ("footer { color: var(--muted); font-size: 12px; margin-top: 40px; border-top: 1px solid var(--line); "
    "padding-top: 8px; }"),
    # class rules (also in notebook fragments)
    ".sub { color: var(--muted); margin: 0 0 14px; }",
    ".note { color: var(--muted); font-style: italic; }",
    ".num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }",
    "tr.selected td { background: #fdf0e6; font-weight: 600; }",
    ".kv td:first-child { color: var(--muted); }",
    ".rating { white-space: nowrap; }",
    (".verdict { display: flex; gap: 14px; align-items: flex-start; border: 1px solid var(--line); "
    "border-radius: 8px; padding: 12px 16px; background: var(--soft); margin: 12px 0; }"),
    (".light { display: inline-block; width: 14px; height: 14px; border-radius: 50%; vertical-align: -2px; "
    "flex: none; margin-top: 3px; }"),
    ".verdict .light { width: 26px; height: 26px; }",
    ".green { background: var(--green); }",
    ".yellow { background: var(--amber); }",
    ".red { background: var(--red); }",
    (".badge { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; "
    "padding: 1px 7px; border-radius: 9px; color: #fff; margin-right: 6px; }"),
    ".badge.error { background: var(--red); }",
    ".badge.warning { background: var(--amber); }",
    ".badge.info { background: #607d8b; }",
    ".finding { border-left: 4px solid var(--line); padding: 4px 0 4px 12px; margin: 12px 0; }",
    ".finding.error { border-color: var(--red); }",
    ".finding.warning { border-color: var(--amber); }",
    ".finding .params { color: var(--muted); font-size: 13px; }",
    ".finding ol { margin: 4px 0 0 0; padding-left: 22px; }",
    ".fig { margin: 18px 0 26px; }",
    ".fig figcaption { color: var(--muted); font-size: 13px; margin: 2px 0 6px; max-width: 900px; }",
    ".fig figcaption b { color: var(--ink); }",
    ".fig svg { max-width: 100%; height: auto; display: block; }",
)
CSS = "\n".join(_RULES)


def esc(value: Any) -> str:
    """Text made safe for HTML."""
    return html.escape(str(value), quote=True)


def num(value: Any, digits: int = 4) -> str:
    """A number as a statistician reads it: 4 significant digits, exponents only when needed."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–" if math.isnan(value) else ("∞" if value > 0 else "−∞")
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        return f"{value:#.{digits}g}".rstrip(".") if abs(value) < 1e4 else f"{value:.1f}"
    return esc(value)


def p_value(value: Any) -> str:
    """A p-value as R prints it."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "–"
    if value < 2.2e-16:
        return "&lt; 2.2e-16"
    return f"{value:.3g}" if value >= 1e-4 else f"{value:.2e}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] | None = None,
          selected: Sequence[bool] | None = None, css: str = "") -> str:
    """A table; cells are HTML already (escape text with :func:`esc`, numbers with :func:`num`)."""
    numeric = numeric or [False] * len(header)
    head = "".join(f'<th class="num">{h}</th>' if n else f"<th>{h}</th>" for h, n in zip(header, numeric, strict=True))
    body = []
    for i, row in enumerate(rows):
        cells = "".join(f'<td class="num">{c}</td>' if n else f"<td>{c}</td>" for c, n in zip(row, numeric, strict=True))
        mark = ' class="selected"' if selected is not None and selected[i] else ""
        body.append(f"<tr{mark}>{cells}</tr>")
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def key_values(items: Iterable[tuple[str, str]]) -> str:
    """A two-column table of names and (HTML) values."""
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in items)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def light(colour: str, title: str = "") -> str:
    """A traffic-light dot: ``green``, ``yellow`` (amber) or ``red``."""
    return f'<span class="light {esc(colour)}" title="{esc(title)}" role="img" aria-label="{esc(colour)}"></span>'


def note(text: str) -> str:
    """A muted remark (a figure left out, and why)."""
    return f'<p class="note">{esc(text)}</p>'


def figure(name: str, title: str, caption: str, svg: str) -> str:
    """A figure with its title and one-line caption above the inline SVG."""
    return (f'<figure class="fig" id="fig-{esc(name)}" data-figure="{esc(name)}"><figcaption><b>{esc(title)}.</b> '
            f"{esc(caption)}</figcaption>{svg}</figure>")


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the page: an anchor, a heading and its HTML."""

    anchor: str
    title: str
    body: str


def page(title: str, header: str, sections: Sequence[Section], footer: str = "") -> str:
    """The whole document: header, table of contents, sections, footer."""
    nav = "".join(f'<a href="#{esc(s.anchor)}">{esc(s.title)}</a>' for s in sections)
    parts = "".join(f'<section id="{esc(s.anchor)}"><h2>{esc(s.title)}</h2>{s.body}</section>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        f'initial-scale=1"><link rel="icon" href="data:,"><title>{esc(title)}</title><style>{CSS}</style></head>'
        f"<body><main>{header}<nav>{nav}</nav>{parts}<footer>{footer}</footer></main></body></html>\n"
    )


#: The class rules, with the colours written out, for a notebook fragment.
_FRAGMENT_CSS = "\n".join(rule for rule in _RULES if rule.startswith((".", "tr."))).replace(
    "var(--green)", "#1b7f3b").replace("var(--amber)", "#c77c02").replace("var(--red)", "#c0392b").replace(
    "var(--line)", "#ddd").replace("var(--soft)", "#f6f7f9").replace("var(--muted)", "#666").replace(
    "var(--ink)", "#1d1d1f")


def fragment(body: str) -> str:
    """HTML for a notebook cell (``_repr_html_``): the body with the styles of its classes."""
    return f'<div class="lmmdx"><style>{_FRAGMENT_CSS}</style>{body}</div>'
