"""Reading likes and dislikes: one answer from the command line, or a batch from CSV / JSON lines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from adlens.errors import InvalidInputError
from adlens.products.catalog import RowProblem, read_records
from adlens.products.types import DISLIKE, LIKE, Feedback
from adlens.times import check_time

CUSTOMER_COLUMNS = ("customer", "customer_id", "user", "user_id")
PRODUCT_COLUMNS = ("product", "product_id", "item", "item_id", "id")
VALUE_COLUMNS = ("feedback", "value", "rating", "answer", "label")
TIME_COLUMNS = ("time", "timestamp", "at", "created_at", "date")

_VALUES = {
    "like": LIKE, "liked": LIKE, "yes": LIKE, "1": LIKE, "+1": LIKE, "true": LIKE, "up": LIKE,
    "dislike": DISLIKE, "disliked": DISLIKE, "no": DISLIKE, "-1": DISLIKE, "0": DISLIKE, "false": DISLIKE,
    "down": DISLIKE,
}


def parse_value(text: Any) -> int:
    """``like``/``dislike`` (or yes/no, 1/-1, 1/0, true/false) → +1 / -1."""
    value = _VALUES.get(str(text).strip().lower())
    if value is None:
        raise InvalidInputError(f"feedback must be 'like' or 'dislike', not {text!r}")
    return value


def parse_time(text: Any) -> datetime:
    """An ISO 8601 date-time (a naive one is taken as UTC), or a Unix timestamp in seconds."""
    raw = str(text).strip()
    try:
        if raw.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(raw), tz=timezone.utc)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise InvalidInputError(f"not a date-time: {raw!r} (use ISO 8601, e.g. 2026-11-21T10:30:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def now() -> datetime:
    return datetime.now(timezone.utc)


def _find(record: dict[str, Any], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in record), None)


def _column(record: dict[str, Any], candidates: tuple[str, ...], what: str) -> str:
    found = _find(record, candidates)
    if found is None:
        raise InvalidInputError(
            f"no {what} column: expected one of {', '.join(candidates)} (columns: {', '.join(record)})"
        )
    return found


def read_feedback(path: Path) -> Iterator[tuple[int, Feedback] | RowProblem]:
    """Answers from a CSV or JSON-lines file, each with its line; bad rows become problems.

    Columns: customer, product, feedback (like/dislike), and an optional time (ISO 8601;
    missing means now; from 2000 to a few minutes ahead, see :func:`~adlens.times.check_time`).
    Rows without a time keep the file's order.
    """
    columns: tuple[str, str, str, str | None] | None = None
    for line, record in read_records(path):
        if isinstance(record, str):
            yield RowProblem(line, None, record)
            continue
        if columns is None:
            columns = (
                _column(record, CUSTOMER_COLUMNS, "customer"), _column(record, PRODUCT_COLUMNS, "product"),
                _column(record, VALUE_COLUMNS, "feedback"), _find(record, TIME_COLUMNS),
            )
        customer_col, product_col, value_col, time_col = columns
        customer = str(record.get(customer_col) or "").strip()
        product = str(record.get(product_col) or "").strip()
        if not customer or not product:
            yield RowProblem(line, product or None, "empty customer or product", "bad record")
            continue
        try:
            value = parse_value(record.get(value_col, ""))
            at = check_time(parse_time(record[time_col]), time_col) \
                if time_col and record.get(time_col) not in (None, "") else now()
        except InvalidInputError as error:
            yield RowProblem(line, product, error.message, "bad record")
            continue
        yield line, Feedback(customer, product, value, at)
