"""The pieces every adlens HTML report is built from: one stylesheet, sections, figures, cards, tables.

A report is one self-contained file: plots are embedded as base64 PNGs. Every text
passed in is HTML-escaped here, so callers hand over plain strings from the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from adlens import __version__

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.meta, .none, .note { color: #666; } img { max-width: 100%; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.card b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f6f6f6; }
"""


def when(moment: datetime | None) -> str:
    """A moment as ``YYYY-MM-DD HH:MM UTC``, or ``–``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


def section(title: str, body: str) -> str:
    """A ``<section>`` with an anchor made from ``title``; ``body`` is HTML."""
    anchor = title.lower().replace(" ", "-")
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>\n{body}\n</section>'


def figure(png: str | None, alt: str, missing: str) -> str:
    """An embedded PNG, or the ``missing`` note when there is nothing to draw."""
    if png is None:
        return f'<p class="none">{escape(missing)}</p>'
    return f'<img src="data:image/png;base64,{png}" alt="{escape(alt)}">'


def note(text: str, kind: str = "note") -> str:
    """A paragraph of plain text, styled ``note`` or ``none``."""
    return f'<p class="{kind}">{escape(text)}</p>'


def cards(items: Iterable[tuple[str, str]]) -> str:
    """A row of headline numbers: ``(label, value)`` pairs."""
    body = "".join(f'<div class="card"><b>{escape(value)}</b>{escape(label)}</div>' for label, value in items)
    return f'<div class="cards">{body}</div>'


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of plain-text cells; the first column is left-aligned."""
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "\n".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def document(title: str, meta: str, sections: Iterable[str], generated: datetime) -> str:
    """A whole HTML document: ``title``, a ``meta`` line (plain text) with when and by which version, sections."""
    header = (f"<h1>{escape(title)}</h1><p class=\"meta\">{escape(meta)} Generated {escape(when(generated))} "
              f"by adlens {escape(__version__)}.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{header}\n"
            + "\n".join(sections) + "\n</body></html>\n")
