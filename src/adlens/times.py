"""The clock, and which times adlens takes from clients and users, and which stored times its readers trust.

A time someone gives (a decision's ``at``, an answer's, a report's ``since``) must lie
between :data:`EARLIEST` and ``ADLENS_MAX_CLOCK_SKEW`` seconds after this machine's clock:
:func:`check_time` is the one place that says so. A row already in the store may still
hold any time (written by an older adlens, or by hand); :func:`plausible` tells readers
(the reports, an ad's performance) which rows to leave out rather than draw a time axis
across ten thousand years.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adlens.errors import InvalidTimeError
from adlens.settings import get_settings

#: Nothing adlens records happened before this.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead of the clock a stored time may lie and still be read as real: the signage
#: loop logs a video file's decisions at the video's own times, ahead of the clock.
READ_AHEAD = timedelta(days=1)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def latest(now: datetime | None = None) -> datetime:
    """The latest time adlens accepts: ``now`` (default: the clock) plus ``ADLENS_MAX_CLOCK_SKEW``."""
    return (now or utcnow()) + timedelta(seconds=get_settings().max_clock_skew)


def check_time(value: datetime, field: str = "time", now: datetime | None = None) -> datetime:
    """``value`` in UTC (a naive one is taken as UTC) when adlens can take it, else :class:`InvalidTimeError`.

    It must not be before :data:`EARLIEST` nor more than ``ADLENS_MAX_CLOCK_SKEW`` seconds
    after ``now`` (default: this machine's clock); the message names ``field``.
    """
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past the calendar's end in UTC
        moment = None
    limit = latest(now)
    if moment is None or not EARLIEST <= moment <= limit:
        raise InvalidTimeError(
            f"{field} {value.isoformat()} is out of range: times from {EARLIEST.date().isoformat()} to "
            f"{limit.isoformat(timespec='seconds')} (the server's clock plus ADLENS_MAX_CLOCK_SKEW) are accepted"
        )
    return moment


def read_limit(now: datetime | None = None) -> datetime:
    """The latest stored time readers take as real: ``now`` (default: the clock) plus :data:`READ_AHEAD`."""
    return (now or utcnow()) + READ_AHEAD


def plausible(value: datetime, limit: datetime) -> bool:
    """Can a stored time be real: not before :data:`EARLIEST`, not after ``limit`` (see :func:`read_limit`)?"""
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return EARLIEST <= moment <= limit
    except OverflowError:  # comparing across time zones at the calendar's edges
        return False
