"""The UTC timestamp type: aware UTC out whatever went in, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from adlens.store.sqltypes import UTCDateTime

PARIS = timezone(timedelta(hours=2))


@pytest.mark.parametrize(("value", "sqlite_bound", "read"), [
    (None, None, None),
    (datetime(2026, 5, 1, 12, 0, tzinfo=UTC), datetime(2026, 5, 1, 12, 0), datetime(2026, 5, 1, 12, 0, tzinfo=UTC)),
    (datetime(2026, 5, 1, 14, 0, tzinfo=PARIS), datetime(2026, 5, 1, 12, 0),
     datetime(2026, 5, 1, 12, 0, tzinfo=UTC)),
])
def test_bind_and_read(value: datetime | None, sqlite_bound: datetime | None, read: datetime | None) -> None:
    column = UTCDateTime()
    assert column.process_bind_param(value, sqlite.dialect()) == sqlite_bound
    bound = column.process_bind_param(value, postgresql.dialect())
    assert bound == read and (bound is None or bound.tzinfo is not None)
    assert column.process_result_value(value, sqlite.dialect()) == read
