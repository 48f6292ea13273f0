"""Customers, feedback and segments in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.types import DISLIKE, LIKE, Feedback, Product
from adlens.store import Store
from adlens.store.models import FeedbackRow

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def rated(store: Store) -> Store:
    """Three products, customers c1..c3, and some likes and dislikes (written in one transaction)."""
    answers = [("c1", "p2", LIKE), ("c1", "p1", DISLIKE), ("c2", "p1", LIKE), ("c2", "p2", LIKE), ("c3", "p2", DISLIKE)]
    with store.transaction() as session:
        for pid in ("p1", "p2", "p3"):
            store.upsert_product(Product(pid), session)
        for cid in ("c1", "c2", "c3"):
            store.add_customer(cid, session)
        for minutes, (cid, pid, value) in enumerate(answers):
            store.add_feedback(Feedback(cid, pid, value, T0 + timedelta(minutes=minutes)), session)
    return store


def test_add_and_get_customer(store: Store) -> None:
    assert store.add_customer("c1") is True
    assert store.add_customer("c1") is False
    customer = store.get_customer("c1")
    assert (customer.profile, customer.feedback_count, customer.segment_id) == ({}, 0, None)
    assert customer.created_at.tzinfo is not None and customer.profile_updated_at is None
    assert [c.id for c in store.list_customers()] == ["c1"]
    assert store.customer_ids() == {"c1"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.get_customer("ghost"), "unknown customer 'ghost'"),
        (lambda s: s.remove_customer("ghost"), "unknown customer 'ghost'"),
        (lambda s: s.feedback_for("ghost"), "unknown customer 'ghost'"),
        (lambda s: s.rated_products("ghost"), "unknown customer 'ghost'"),
        (lambda s: s.save_profile("ghost", {}, T0, 0), "unknown customer 'ghost'"),
        (lambda s: s.add_feedback(Feedback("ghost", "p1", LIKE, T0)), "unknown customer 'ghost'"),
        (lambda s: s.add_feedback(Feedback("c1", "nothing", LIKE, T0)), "unknown product 'nothing'"),
        (lambda s: s.segment_members(12345), "unknown segment 12345"),
    ],
)
def test_unknown_ids(rated: Store, call, message: str) -> None:
    with pytest.raises(NotFoundError, match=message):
        call(rated)


def test_feedback_views(rated: Store) -> None:
    history = rated.feedback_for("c1")
    assert [(f.product, f.value) for f in history] == [("p2", LIKE), ("p1", DISLIKE)]
    assert history[0].at == T0
    assert rated.rated_products("c2") == {"p1", "p2"}
    assert rated.popularity() == {"p1": (1, 1), "p2": (2, 1)}
    assert rated.count_feedback() == 5


def test_feedback_value_check_constraint(rated: Store) -> None:
    with pytest.raises(IntegrityError):
        with rated.transaction() as session:
            session.add(FeedbackRow(customer_id="c1", product_id="p3", value=2, created_at=T0))
    assert rated.count_feedback() == 5


def test_profiles(rated: Store) -> None:
    rated.save_profile("c2", {"colour:red": 0.5, "token:leather": -0.25}, T0, 2)
    rated.save_profile("c1", {"concept:sandal": 1.0}, T0, 2)
    ids, profiles = rated.profiles()
    assert ids == ["c1", "c2"]
    assert profiles[1] == {"colour:red": 0.5, "token:leather": -0.25}
    customer = rated.get_customer("c2")
    assert (customer.profile_updated_at, customer.feedback_count) == (T0, 2)


def test_erasure_removes_every_trace(rated: Store) -> None:
    rated.save_profile("c1", {"colour:red": 1.0}, T0, 2)
    rated.replace_segments([{"label": "solo"}, {"label": "pair"}], {"c1": 0, "c2": 1, "c3": 1})
    rated.remove_customer("c1")
    assert "c1" not in rated.customer_ids()
    assert rated.count_feedback() == 3
    assert rated.profiles() == ([], [])
    assert rated.popularity() == {"p1": (1, 0), "p2": (1, 1)}
    # The segment that held only c1 described c1 alone: it goes too.
    assert [(s.label, s.size) for s in rated.list_segments()] == [("pair", 2)]


def test_replace_segments(rated: Store) -> None:
    segments = [
        {
            "label": "sandals",
            "top_aspects": [("concept:sandal", 0.9)],
            "centroid": {"concept:sandal": 0.9},
            "x": 1.5,
        },
        {"label": "leather", "size": 7},
    ]
    first = rated.replace_segments(segments, {"c1": 0, "c2": 0, "c3": 1})
    stored = rated.list_segments()
    assert [s.id for s in stored] == first
    assert (stored[0].size, stored[0].x, stored[0].y) == (2, 1.5, None)
    assert stored[0].top_aspects == [("concept:sandal", 0.9)]
    assert stored[1].size == 7 and stored[1].centroid == {}
    assert rated.segment_members(first[0]) == ["c1", "c2"]
    assert rated.get_customer("c3").segment_id == first[1]

    second = rated.replace_segments([{"label": "everyone"}], {"c3": 0})
    assert [s.label for s in rated.list_segments()] == ["everyone"]
    assert rated.segment_members(second[0]) == ["c3"]
    assert rated.get_customer("c1").segment_id is None


@pytest.mark.parametrize(
    ("segments", "assignment", "error"),
    [
        ([{"label": "a"}], {"c1": 1}, InvalidInputError),
        ([{"label": "a"}], {"c1": -1}, InvalidInputError),
        ([{"name": "no label"}], {}, InvalidInputError),
        ([{"label": "a", "x": "left"}], {}, InvalidInputError),
        ([{"label": "a"}], {"c1": 0, "ghost": 0}, NotFoundError),
    ],
)
def test_replace_segments_refuses_bad_input_atomically(rated: Store, segments, assignment, error) -> None:
    (kept,) = rated.replace_segments([{"label": "kept"}], {"c1": 0})
    with pytest.raises(error):
        rated.replace_segments(segments, assignment)
    assert [s.label for s in rated.list_segments()] == ["kept"]
    assert rated.segment_members(kept) == ["c1"]
