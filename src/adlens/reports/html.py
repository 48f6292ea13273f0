"""The HTML report: one self-contained file with the signage metrics, tables and plots.

Plots are embedded as base64 PNGs (:mod:`adlens.reports.plots`), so the file can be
mailed or archived alone. Every text that comes from the data (ad ids, screen names,
reasons) is HTML-escaped. With no events in the period the report still renders and
says so, without empty plots.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from adlens.files import write_text_atomic
from adlens.reports import page, plots
from adlens.reports.metrics import NO_AD, Exposure, Metrics, load_metrics
from adlens.times import utcnow

if TYPE_CHECKING:
    from adlens.protocols import EventLog

SECTIONS = ("Summary", "Audience over time", "Demographics", "Emotion response per ad", "Decisions by reason",
            "Bandit learning curve", "Per-ad metrics", "Per-screen metrics")


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
    skipped = (f' {metrics.skipped} event(s) at impossible times (before 2000 or ahead of the clock) '
               'are left out.' if metrics.skipped else '')
    return (f'<p>Events from {escape(page.when(metrics.first))} to {escape(page.when(metrics.last))}.{skipped}</p>'
            + page.cards(cards))


_COLUMNS: Sequence[tuple[str, Callable[[Exposure], str]]] = (
    ("decisions", lambda e: _number(e.decisions)),
    ("impressions", lambda e: _number(e.impressions)),
    ("shown", lambda e: _duration(e.seconds)),
    ("OTS", lambda e: _number(e.ots)),
    ("watchers", lambda e: _number(e.watchers)),
    ("watch rate", lambda e: "–" if e.watch_rate is None else f"{e.watch_rate:.0%}"),
    ("dwell", lambda e: _duration(e.dwell)),
    ("attention", lambda e: _duration(e.attention)),
    ("top emotion", lambda e: max(e.emotions, key=e.emotions.__getitem__) if e.emotions else "–"),
    ("rewards", lambda e: _number(e.rewards)),
    ("mean reward", lambda e: _number(e.reward_mean, 3)),
)


def _table(rows: Sequence[Exposure], first: str) -> str:
    if not rows:
        return f'<p class="none">No {escape(first)} in this period.</p>'
    return page.table((first, *(c for c, _ in _COLUMNS)),
                      ([row.key, *(cell(row) for _, cell in _COLUMNS)] for row in rows))


def render_report(metrics: Metrics, generated: datetime | None = None) -> str:
    """The report of ``metrics`` as one HTML document (a string)."""
    period = f"{page.when(metrics.since) if metrics.since else 'the beginning'} to " \
             f"{page.when(metrics.until) if metrics.until else 'now'}"
    if metrics.empty:
        parts = [page.section("Summary", '<p class="none">No events yet in this period: no decisions, plays or '
                                         "rewards have been logged. Run some decisions, then report again.</p>")]
    else:
        parts = _sections(metrics)
    return page.document("adlens report", f"Period: {period}.", parts, generated or utcnow())


def _sections(metrics: Metrics) -> list[str]:
    note = ('<p class="note">Faces are counted in each decision they were in: a person who stays '
            "through several decisions counts several times.</p>")
    figures = plots.report_plots(metrics)
    return [
        page.section("Summary", _summary(metrics)),
        page.section("Audience over time", page.figure(figures["audience"], "audience over time",
                                                       "No audience observed.")),
        page.section("Demographics", page.figure(figures["demographics"], "demographics",
                                                 "No age or gender estimates in this period.") + note),
        page.section("Emotion response per ad", page.figure(figures["emotions"], "emotion response per ad",
                                                            "No emotion estimates while ads showed.")),
        page.section("Decisions by reason", page.figure(figures["reasons"], "decisions by reason",
                                                        "No decisions in this period.")),
        page.section("Bandit learning curve", page.figure(
            figures["learning"], "bandit learning curve",
            "No decisions for an ad and no rewards yet: the bandit has nothing to learn from.")),
        page.section("Per-ad metrics", _table(metrics.ads, "ad")),
        page.section("Per-screen metrics", _table(metrics.screens, "screen")),
    ]


def write_report(store: EventLog, out_path: str | os.PathLike[str], since: datetime | None = None,
                 until: datetime | None = None) -> Path:
    """Write the HTML report of the store's events from ``since`` to ``until`` to ``out_path``; returns the path."""
    return write_html(load_metrics(store, since, until), out_path)


def write_html(metrics: Metrics, out_path: str | os.PathLike[str]) -> Path:
    """Write the report of ``metrics`` to ``out_path`` (folders created) and return the path.

    The file is written next to its destination and renamed into place, so a reader
    never sees half a report; an unwritable destination is an
    :class:`~adlens.errors.InvalidInputError`.
    """
    return write_text_atomic(out_path, render_report(metrics), "the report")
