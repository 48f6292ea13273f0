"""Parsing answers: like/dislike words, times, and feedback files with bad rows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adlens.errors import InvalidInputError
from adlens.products.catalog import RowProblem
from adlens.products.feedback import parse_time, parse_value, read_feedback
from adlens.products.types import DISLIKE, LIKE


@pytest.mark.parametrize(("text", "value"), [("like", LIKE), ("Dislike", DISLIKE), ("1", LIKE), ("-1", DISLIKE),
                                             ("0", DISLIKE), ("yes", LIKE), (" no ", DISLIKE)])
def test_parse_value(text, value):
    assert parse_value(text) == value


def test_parse_value_rejects_anything_else():
    with pytest.raises(InvalidInputError, match="'like' or 'dislike'"):
        parse_value("maybe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-21T10:00:00Z", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
     ("2026-11-21 10:00", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
     ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc))],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_parse_time_rejects_garbage():
    with pytest.raises(InvalidInputError, match="not a date-time"):
        parse_time("yesterday")


def test_read_feedback_reports_bad_rows(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("customer,product,feedback,time\nann,1,like,2026-01-01\nann,2,meh,\n,3,like,\n"
                    "bob,4,dislike,soon\nbob,5,dislike,\n")
    items = list(read_feedback(path))
    good = [i for i in items if not isinstance(i, RowProblem)]
    bad = [i for i in items if isinstance(i, RowProblem)]
    assert [(line, fb.customer, fb.product, fb.value) for line, fb in good] == [(2, "ann", "1", LIKE),
                                                                                 (6, "bob", "5", DISLIKE)]
    assert good[0][1].at == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert [p.line for p in bad] == [3, 4, 5]


def test_read_feedback_refuses_rows_at_impossible_times(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("customer,product,feedback,at\nann,1,like,9999-12-31T23:59:59\nann,2,like,0001-01-01\n"
                    "ann,3,like,1999-12-31T23:00:00-02:00\nann,4,like,2026-01-01\n")
    items = list(read_feedback(path))
    problems = [i for i in items if isinstance(i, RowProblem)]
    assert [(p.line, p.reason.split(" ")[:2]) for p in problems] == [
        (2, ["at", "9999-12-31T23:59:59+00:00"]), (3, ["at", "0001-01-01T00:00:00+00:00"])]
    assert [fb.product for _, fb in (i for i in items if not isinstance(i, RowProblem))] == ["3", "4"]


def test_read_feedback_needs_its_columns(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("who,what\nann,1\n")
    with pytest.raises(InvalidInputError, match="no customer column"):
        list(read_feedback(path))
