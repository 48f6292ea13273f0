"""The HTML report: one self-contained file with the signage metrics, tables and plots.

Plots are embedded as base64 PNGs (:mod:`adlens.reports.plots`), so the file can be
mailed or archived alone. Every text that comes from the data (ad ids, screen names,
reasons) is HTML-escaped. With no events in the period the report still renders and
says so, without empty plots.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from adlens import __version__
from adlens.errors import InvalidInputError
from adlens.reports import plots
from adlens.reports.metrics import NO_AD, Exposure, Metrics, load_metrics
from adlens.store.models import utcnow

SECTIONS = ("Summary", "Audience over time", "Demographics", "Emotion response per ad", "Decisions by reason",
            "Bandit learning curve", "Per-ad metrics", "Per-screen metrics")

_STYLE = """
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


def _duration(seconds: float) -> str:
    """Seconds as a short human duration: ``42 s``, ``3.5 min``, ``2.1 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


def _section(title: str, body: str) -> str:
    anchor = title.lower().replace(" ", "-")
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>\n{body}\n</section>'


def _figure(png: str | None, alt: str, missing: str) -> str:
    if png is None:
        return f'<p class="none">{escape(missing)}</p>'
    return f'<img src="data:image/png;base64,{png}" alt="{escape(alt)}">'


def _summary(metrics: Metrics) -> str:
    total, counts = metrics.total, metrics.counts
    cards = [
        ("decisions", _number(counts.get("decision", 0))),
        ("impressions", _number(total.impressions)),
        ("opportunities to see", _number(total.ots)),
        ("watchers", _number(total.watchers)),
        ("watch rate", "–" if total.watch_rate is None else f"{total.watch_rate:.0%}"),
        ("dwell time", _duration(total.dwell)),
        ("attention time", _duration(total.attention)),
        ("rewards", _number(total.rewards)),
        ("mean reward", _number(total.reward_mean, 3)),
        ("ads", _number(len(metrics.ads))),
        ("screens", _number(len(metrics.screens))),
        (NO_AD, _number(metrics.reasons.get(NO_AD, 0))),
    ]
    items = "".join(f'<div class="card"><b>{escape(value)}</b>{escape(label)}</div>' for label, value in cards)
    return (f'<p>Events from {escape(_when(metrics.first))} to {escape(_when(metrics.last))}.</p>'
            f'<div class="cards">{items}</div>')


_COLUMNS: Sequence[tuple[str, Callable[[Exposure], str]]] = (
    ("decisions", lambda e: _number(e.decisions)),
    ("impressions", lambda e: _number(e.impressions)),
    ("shown", lambda e: _duration(e.seconds)),
    ("OTS", lambda e: _number(e.ots)),
    ("watchers", lambda e: _number(e.watchers)),
    ("watch rate", lambda e: "–" if e.watch_rate is None else f"{e.watch_rate:.0%}"),
    ("dwell", lambda e: _duration(e.dwell)),
    ("attention", lambda e: _duration(e.attention)),
    ("top emotion", lambda e: max(e.emotions, key=e.emotions.get) if e.emotions else "–"),
    ("rewards", lambda e: _number(e.rewards)),
    ("mean reward", lambda e: _number(e.reward_mean, 3)),
)


def _table(rows: Sequence[Exposure], first: str) -> str:
    if not rows:
        return f'<p class="none">No {escape(first)} in this period.</p>'
    head = "".join(f"<th>{escape(name)}</th>" for name in (first, *(c for c, _ in _COLUMNS)))
    body = "\n".join(
        "<tr>" + f"<td>{escape(row.key)}</td>" + "".join(f"<td>{escape(cell(row))}</td>" for _, cell in _COLUMNS)
        + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def render_report(metrics: Metrics, generated: datetime | None = None) -> str:
    """The report of ``metrics`` as one HTML document (a string)."""
    period = f"{_when(metrics.since) if metrics.since else 'the beginning'} to " \
             f"{_when(metrics.until) if metrics.until else 'now'}"
    header = (f"<h1>adlens report</h1><p class=\"meta\">Period: {escape(period)}. Generated "
              f"{escape(_when(generated or utcnow()))} by adlens {escape(__version__)}.</p>")
    if metrics.empty:
        parts = [_section("Summary", '<p class="none">No events yet in this period: no decisions, plays or '
                                     "rewards have been logged. Run some decisions, then report again.</p>")]
    else:
        parts = _sections(metrics)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>adlens report</title><style>{_STYLE}</style></head>\n<body>\n{header}\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _sections(metrics: Metrics) -> list[str]:
    note = ('<p class="note">Faces are counted in each decision they were in: a person who stays '
            "through several decisions counts several times.</p>")
    figures = plots.report_plots(metrics)
    return [
        _section("Summary", _summary(metrics)),
        _section("Audience over time", _figure(figures["audience"], "audience over time", "No audience observed.")),
        _section("Demographics", _figure(figures["demographics"], "demographics",
                                         "No age or gender estimates in this period.") + note),
        _section("Emotion response per ad", _figure(figures["emotions"], "emotion response per ad",
                                                    "No emotion estimates while ads showed.")),
        _section("Decisions by reason", _figure(figures["reasons"], "decisions by reason",
                                                "No decisions in this period.")),
        _section("Bandit learning curve", _figure(
            figures["learning"], "bandit learning curve",
            "No decisions for an ad and no rewards yet: the bandit has nothing to learn from.")),
        _section("Per-ad metrics", _table(metrics.ads, "ad")),
        _section("Per-screen metrics", _table(metrics.screens, "screen")),
    ]


def write_report(store: Any, out_path: str | os.PathLike[str], since: datetime | None = None,
                 until: datetime | None = None) -> Path:
    """Write the HTML report of the store's events from ``since`` to ``until`` to ``out_path``; returns the path."""
    return write_html(load_metrics(store, since, until), out_path)


def write_html(metrics: Metrics, out_path: str | os.PathLike[str]) -> Path:
    """Write the report of ``metrics`` to ``out_path`` (folders created) and return the path.

    The file is written next to its destination and renamed into place, so a reader
    never sees half a report; an unwritable destination is an
    :class:`~adlens.errors.InvalidInputError`.
    """
    path = Path(out_path).expanduser()
    document = render_report(metrics)
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(document)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is aggregate numbers only
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write the report to {path}: {error.strerror or error}") from error
    return path
