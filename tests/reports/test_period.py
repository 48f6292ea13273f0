"""Report periods: times ago, dates and date-times, and since/until together."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from adlens.errors import InvalidInputError, InvalidTimeError
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


@pytest.mark.parametrize(("since", "until", "message"), [
    ("1999-12-31", None, "since 1999-12-31T00:00:00+00:00 is out of range"),
    ("0001-01-01", None, "since 0001-01-01"), ("9999-12-31T23:59:59", None, "since 9999-12-31"),
    ("9999-12-31T23:59:59-14:00", None, "since 9999-12-31"), ("2026-03-01T12:06:00", None, "since 2026-03-01"),
    ("99999999999w", None, "since: '99999999999w' reaches too far back"),
    (None, "0001-01-01T00:00:00+01:00", "until 0001-01-01"), (None, "1990-01-01", "until 1990"),
])
def test_times_out_of_range_are_refused_naming_the_field(since, until, message):
    with pytest.raises(InvalidTimeError, match=re.escape(message)) as caught:
        parse_period(since, until, now=NOW)
    assert caught.value.http_status == 422


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59", "9999-12-31T23:59:59-14:00", "2027-01-01"])
def test_an_until_ahead_of_the_clock_is_cut_to_it(until):
    assert parse_period("2026-02-01", until, now=NOW) == (datetime(2026, 2, 1, tzinfo=UTC),
                                                         NOW + timedelta(minutes=5))


def test_a_few_minutes_ahead_is_accepted():
    assert parse_period("2026-03-01T12:04:00Z", None, now=NOW)[0] == NOW + timedelta(minutes=4)
