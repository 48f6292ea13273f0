"""Report periods from people: ``7d`` ago, a date, or an ISO 8601 date-time (the CLI and the API)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

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


def parse_period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``(start, end)`` from two optional texts (see :func:`parse_moment`); start must come before end."""
    start = parse_moment(since) if since else None
    end = parse_moment(until) if until else None
    if start and end and start >= end:
        raise InvalidInputError(f"since ({start.isoformat()}) must come before until ({end.isoformat()})")
    return start, end
