"""The time axis of the reports: one bucket per minute, hour, day, week or month, whichever keeps
the axis to a few hundred buckets at most over the events' actual span."""

from __future__ import annotations

from datetime import datetime, timedelta

#: Event spans up to these lengths get minute, hour, day, then week buckets; longer spans get months.
MINUTE_SPAN, HOUR_SPAN, DAY_SPAN, WEEK_SPAN = timedelta(hours=3), timedelta(days=4), timedelta(days=120), \
    timedelta(days=730)


def bucket_for(span: timedelta) -> str:
    """``minute``, ``hour``, ``day``, ``week`` or ``month``: the bucket giving a readable time axis over ``span``."""
    for bucket, longest in (("minute", MINUTE_SPAN), ("hour", HOUR_SPAN), ("day", DAY_SPAN), ("week", WEEK_SPAN)):
        if span <= longest:
            return bucket
    return "month"


def floor_time(moment: datetime, bucket: str) -> datetime:
    """The start of the ``bucket`` (minute/hour/day/week from Monday/month) ``moment`` falls in."""
    moment = moment.replace(second=0, microsecond=0)
    if bucket == "minute":
        return moment
    moment = moment.replace(minute=0)
    if bucket == "hour":
        return moment
    moment = moment.replace(hour=0)
    if bucket == "week":
        return moment - timedelta(days=moment.weekday())
    return moment.replace(day=1) if bucket == "month" else moment


_STEP = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
         "week": timedelta(weeks=1)}


def next_bucket(start: datetime, bucket: str) -> datetime:
    """The start of the bucket after the one starting at ``start``."""
    if bucket == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start + _STEP[bucket]


def bucket_widths(starts: list[datetime], bucket: str) -> list[timedelta]:
    """How long each bucket starting at ``starts`` lasts (months differ)."""
    return [next_bucket(start, bucket) - start for start in starts]
