"""The append-only event log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adlens.errors import ConflictError, InvalidInputError, NotFoundError
from adlens.store import Store
from adlens.store.events import DECISION, PLAY, REWARD, Event
from adlens.times import utcnow


def test_append_and_filter(store: Store) -> None:
    now = utcnow()
    ids = store.append_events([
        Event(DECISION, now - timedelta(hours=2), "door", "d1", "ad1", "c1", data={"faces": 2}),
        Event(PLAY, now - timedelta(hours=1), "door", "d1", "ad1", "c1", value=4.5),
        Event(REWARD, now, "window", "d1", "ad1", value=1.0),
    ])
    assert len(ids) == 3 and ids == sorted(ids)
    assert [e.kind for e in store.events()] == [DECISION, PLAY, REWARD]
    assert [e.kind for e in store.events(since=now - timedelta(minutes=90))] == [PLAY, REWARD]
    assert [e.kind for e in store.events(screen="door", kinds=[PLAY])] == [PLAY]
    assert store.decision_event("d1").data == {"faces": 2}
    assert store.count_events(DECISION, ad_id="ad1") == 1
    with pytest.raises(NotFoundError, match="unknown decision"):
        store.decision_event("nope")


def test_append_in_the_callers_transaction(store: Store) -> None:
    assert store.append_events([]) == []
    with pytest.raises(RuntimeError), store.transaction() as session:
        store.append_events([Event(DECISION, decision_id="d1"), Event(PLAY, decision_id="d1")], session=session)
        raise RuntimeError("rolled back")
    assert store.events() == []
    with store.transaction() as session:
        first = store.append_event(Event(DECISION, decision_id="d2"), session=session)
        assert store.events(decision_id="d2", session=session)[0].id == first
    assert [e.id for e in store.events()] == [first]


def test_a_decision_takes_one_reward_of_each_kind(store: Store) -> None:
    store.append_events([Event(DECISION, decision_id="d1"), Event(PLAY, decision_id="d1"),
                         Event(PLAY, decision_id="d1"), Event(REWARD, decision_id="d1", data={"kind": "dwell"}),
                         Event(REWARD, decision_id="d1", data={"kind": "click"}),
                         Event(REWARD, decision_id="d2", data={"kind": "dwell"})])
    with pytest.raises(ConflictError, match="decision d1 already has a dwell reward"):
        store.append_event(Event(REWARD, decision_id="d1", value=1.0, data={"kind": "dwell"}))
    with pytest.raises(ConflictError), store.transaction() as session:  # nothing of the batch stays
        store.append_events([Event(DECISION, decision_id="d3"), Event(REWARD, decision_id="d1",
                                                                       data={"kind": "click"})], session=session)
    assert len(store.events(decision_id="d1")) == 5 and store.events(decision_id="d3") == []


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown event kind"):
        Event("click")


def test_events_cannot_be_updated(store: Store) -> None:
    store.append_event(Event(DECISION, ad_id="ad1"))
    with pytest.raises(DBAPIError, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE events SET ad_id = 'other'"))
    assert store.events()[0].ad_id == "ad1"


def test_prune_removes_only_old_events(store: Store) -> None:
    now = utcnow()
    store.append_events([Event(DECISION, now - timedelta(days=40)), Event(DECISION, now)])
    assert store.prune_events(now - timedelta(days=30)) == 1
    assert len(store.events()) == 1


def test_erasure_removes_events_naming_the_member(store: Store) -> None:
    store.add_customer("alice")
    store.append_events([Event(DECISION, customer_id="alice"), Event(DECISION, customer_id=None)])
    store.remove_customer("alice")
    assert [e.customer_id for e in store.events()] == [None]


def test_caps_do_not_count_events_at_impossible_times(store: Store) -> None:
    """A decision an older adlens logged for 9999 must not fill a daily cap for good."""
    store.append_events([Event(DECISION, utcnow(), ad_id="a"),
                         Event(DECISION, utcnow().replace(year=9999), ad_id="a")])
    assert store.count_events(DECISION, since=utcnow() - timedelta(hours=1), ad_id="a") == 1


def test_decision_totals_sum_in_sql_and_keep_each_screens_latest(store: Store) -> None:
    now = utcnow()
    audience = [({"faces": 2, "watchers": 1}, "door", -50), ({"faces": 3, "watchers": 3}, "door", -10),
                ({"faces": 1, "watchers": 0}, "till", -20), ({"seen": False}, "till", -5),
                ({"faces": 9, "watchers": 9}, "door", -900)]  # too old for the window
    store.append_events([Event(DECISION, now + timedelta(seconds=s), screen, f"d{i}", f"ad{i}", data={"audience": a})
                         for i, (a, screen, s) in enumerate(audience)])
    store.append_events([Event(PLAY, now, "door", "d1", "ad1", value=5.0)])
    count, faces, watchers, latest = store.decision_totals(now - timedelta(minutes=5), now + timedelta(minutes=1))
    assert (count, faces, watchers) == (4, 6, 4)
    assert {(e.screen, e.decision_id) for e in latest} == {("door", "d1"), ("till", "d3")}
    assert store.decision_totals(now + timedelta(minutes=1), now + timedelta(minutes=2)) == (0, 0, 0, [])
