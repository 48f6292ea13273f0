"""``adlens report``: the HTML report of what the screens saw and did, and its metrics as JSON."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from adlens.cli.common import handle_errors, out, write_json
from adlens.errors import InvalidInputError
from adlens.products.feedback import parse_time
from adlens.store.models import utcnow

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

WHEN_HELP = "A date (2026-11-01), an ISO 8601 date-time, or a time ago: 30m, 24h, 7d, 2w."


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """A moment from the command line: ``30m``/``24h``/``7d``/``2w`` ago, or an ISO 8601 date or date-time (UTC
    when it names no zone); :class:`~adlens.errors.InvalidInputError` otherwise."""
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2).lower()
        try:
            return (now or utcnow()) - timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise InvalidInputError(f"{text!r} reaches too far back") from None
    try:
        return parse_time(text)
    except InvalidInputError:
        raise InvalidInputError(f"not a date, date-time or time ago: {text!r} (e.g. 2026-11-01, 24h, 7d)") from None


Since = Annotated[str | None, typer.Option("--since", metavar="WHEN", help=f"Report events from then on. {WHEN_HELP}")]
Until = Annotated[str | None, typer.Option("--until", metavar="WHEN", help=f"Report events before then. {WHEN_HELP}")]
OutPath = Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Where to write the HTML report.")]
JsonPath = Annotated[Path | None, typer.Option("--json", dir_okay=False, help="Also write the metrics as JSON here.")]


@handle_errors
def report(since: Since = None, until: Until = None, out_path: OutPath = Path("report.html"),
           json_path: JsonPath = None) -> None:
    """Write an HTML report: audience over time, demographics, emotions per ad, reasons, bandit learning.

    Per-ad and per-screen tables give impressions, opportunities to see, watchers, dwell and attention time, the emotion mix while each ad showed, and rewards.
    """
    from adlens.reports.html import write_html
    from adlens.reports.metrics import load_metrics
    from adlens.store import open_store

    start = parse_moment(since) if since else None
    end = parse_moment(until) if until else None
    if start and end and start >= end:
        raise InvalidInputError(f"--since ({start.isoformat()}) must come before --until ({end.isoformat()})")
    with open_store() as store:
        metrics = load_metrics(store, start, end)
    path = write_html(metrics, out_path)
    if json_path is not None:
        write_json(metrics.to_dict(), json_path)
    counts = metrics.counts
    out.print(f"report written to {path} ({counts['decision']} decisions, {counts['play']} plays, "
              f"{counts['reward']} rewards)", highlight=False, markup=False)
