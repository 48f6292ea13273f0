"""Report periods: times ago, dates and date-times, and since/until together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adlens.errors import InvalidInputError
from adlens.reports.period import parse_moment, parse_period

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", NOW - timedelta(minutes=30)), ("24h", NOW - timedelta(hours=24)), ("7d", NOW - timedelta(days=7)),
    ("2W", NOW - timedelta(weeks=2)), ("1.5h", NOW - timedelta(minutes=90)),
    ("2026-02-01", datetime(2026, 2, 1, tzinfo=UTC)),
    ("2026-02-01T08:30:00+01:00", datetime(2026, 2, 1, 7, 30, tzinfo=UTC)),
    ("7 days", InvalidInputError), ("", InvalidInputError), ("99999999999w", InvalidInputError),
])
def test_parse_moment(text, expected):
    if expected is InvalidInputError:
        with pytest.raises(InvalidInputError):
            parse_moment(text, now=NOW)
    else:
        assert parse_moment(text, now=NOW) == expected


def test_parse_period():
    assert parse_period(None, None) == (None, None)
    start, end = parse_period("2026-02-01", "2026-02-02")
    assert start < end
    with pytest.raises(InvalidInputError, match="must come before"):
        parse_period("2026-02-02", "2026-02-01")
