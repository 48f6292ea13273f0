"""The reports' time axis: which bucket a span gets, and where a bucket starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adlens.reports.buckets import bucket_for, floor_time, next_bucket


@pytest.mark.parametrize(("span", "bucket"), [(timedelta(0), "minute"), (timedelta(hours=3), "minute"),
                                              (timedelta(hours=5), "hour"), (timedelta(days=4), "hour"),
                                              (timedelta(days=30), "day")])
def test_bucket_for(span, bucket):
    assert bucket_for(span) == bucket


@pytest.mark.parametrize(("bucket", "expected"), [("minute", datetime(2026, 1, 2, 13, 47, tzinfo=UTC)),
                                                  ("hour", datetime(2026, 1, 2, 13, tzinfo=UTC)),
                                                  ("day", datetime(2026, 1, 2, tzinfo=UTC))])
def test_floor_time(bucket, expected):
    assert floor_time(datetime(2026, 1, 2, 13, 47, 59, 123, tzinfo=UTC), bucket) == expected


@pytest.mark.parametrize(("bucket", "expected"), [("week", datetime(2025, 12, 29, tzinfo=UTC)),
                                                  ("month", datetime(2026, 1, 1, tzinfo=UTC))])
def test_floor_to_week_and_month(bucket, expected):
    assert floor_time(datetime(2026, 1, 2, 13, 47, 59, 123, tzinfo=UTC), bucket) == expected


@pytest.mark.parametrize(("start", "bucket", "expected"), [
    (datetime(2026, 12, 1, tzinfo=UTC), "month", datetime(2027, 1, 1, tzinfo=UTC)),
    (datetime(2026, 1, 1, tzinfo=UTC), "month", datetime(2026, 2, 1, tzinfo=UTC)),
    (datetime(2025, 12, 29, tzinfo=UTC), "week", datetime(2026, 1, 5, tzinfo=UTC)),
    (datetime(2026, 1, 2, 13, tzinfo=UTC), "hour", datetime(2026, 1, 2, 14, tzinfo=UTC)),
])
def test_next_bucket(start, bucket, expected):
    assert next_bucket(start, bucket) == expected
