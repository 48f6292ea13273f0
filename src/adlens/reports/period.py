"""Report periods from people: ``7d`` ago, a date, or an ISO 8601 date-time (the CLI and the API).

``since`` must pass :func:`~adlens.times.check_time` (from 2000 to a few minutes ahead); an
``until`` later than that reports up to it, as nothing can have happened after it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from adlens.errors import InvalidInputError, InvalidTimeError
from adlens.products.feedback import parse_time
from adlens.times import EARLIEST, check_time, latest, utcnow

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

WHEN_HELP = "A date (2026-11-01), an ISO 8601 date-time, or a time ago: 30m, 24h, 7d, 2w; from 2000 on."


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """A moment from the command line: ``30m``/``24h``/``7d``/``2w`` ago, or an ISO 8601 date or date-time (UTC
    when it names no zone); :class:`~adlens.errors.InvalidInputError` otherwise."""
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2).lower()
        try:
            return (now or utcnow()) - timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise InvalidTimeError(f"{text!r} reaches too far back") from None
    try:
        return parse_time(text)
    except InvalidInputError:
        raise InvalidInputError(f"not a date, date-time or time ago: {text!r} (e.g. 2026-11-01, 24h, 7d)") from None


def parse_period(since: str | None, until: str | None,
                 now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """``(start, end)`` from two optional texts (see :func:`parse_moment`); start must come before end.

    Errors name the field: an unreadable text is :class:`~adlens.errors.InvalidInputError`, a
    time out of range (``since`` before 2000 or ahead of the clock, ``until`` before 2000)
    :class:`~adlens.errors.InvalidTimeError`; an ``until`` ahead of the clock is cut to it.
    """
    start = check_time(_moment(since, "since", now), "since", now) if since else None
    end = _moment(until, "until", now) if until else None
    if end is not None:
        try:
            end = end.astimezone(UTC)
        except OverflowError:  # past either end of the calendar once in UTC
            end = datetime.max.replace(tzinfo=UTC) if end.year > EARLIEST.year else datetime.min.replace(tzinfo=UTC)
        if end < EARLIEST:
            check_time(end, "until", now)  # raises, naming the field
        end = min(end, latest(now))
    if start and end and start >= end:
        raise InvalidInputError(f"since ({start.isoformat()}) must come before until ({end.isoformat()})")
    return start, end


def _moment(text: str, field: str, now: datetime | None) -> datetime:
    try:
        return parse_moment(text, now)
    except InvalidTimeError as error:
        raise InvalidTimeError(f"{field}: {error.message}") from None
    except InvalidInputError as error:
        raise InvalidInputError(f"{field}: {error.message}") from None
