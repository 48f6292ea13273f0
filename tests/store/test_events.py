"""The append-only event log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from adlens.errors import ConflictError, InvalidEventError, InvalidInputError, NotFoundError
from adlens.store import Store
from adlens.store.models import EventRow
from adlens.events import DECISION, PLAY, REWARD, Event
from eventlog import decision_event, play_event, reward_event, summary
from adlens.times import utcnow


def test_append_and_filter(store: Store) -> None:
    now = utcnow()
    ids = store.append_events([
        decision_event(now - timedelta(hours=2), "door", "d1", "ad1", "c1", audience=summary(2)),
        play_event(now - timedelta(hours=1), "door", "d1", "ad1", "c1", value=4.5),
        reward_event(now, "window", "d1", "ad1", value=1.0),
    ])
    assert len(ids) == 3 and ids == sorted(ids)
    assert [e.kind for e in store.events()] == [DECISION, PLAY, REWARD]
    assert [e.kind for e in store.events(since=now - timedelta(minutes=90))] == [PLAY, REWARD]
    assert [e.kind for e in store.events(screen="door", kinds=[PLAY])] == [PLAY]
    assert store.decision_event("d1").data.audience == summary(2)
    assert store.count_events(DECISION, ad_id="ad1") == 1
    with pytest.raises(NotFoundError, match="unknown decision"):
        store.decision_event("nope")


def test_append_in_the_callers_transaction(store: Store) -> None:
    assert store.append_events([]) == []
    with pytest.raises(RuntimeError), store.transaction() as session:
        store.append_events([decision_event(decision_id="d1"), play_event(decision_id="d1")], session=session)
        raise RuntimeError("rolled back")
    assert store.events() == []
    with store.transaction() as session:
        first = store.append_event(decision_event(decision_id="d2"), session=session)
        assert store.events(decision_id="d2", session=session)[0].id == first
    assert [e.id for e in store.events()] == [first]


def test_a_decision_takes_one_reward_of_each_kind(store: Store) -> None:
    store.append_events([decision_event(decision_id="d1"), play_event(decision_id="d1"),
                         play_event(decision_id="d1"), reward_event(decision_id="d1", kind="dwell"),
                         reward_event(decision_id="d1", kind="click"),
                         reward_event(decision_id="d2", kind="dwell")])
    with pytest.raises(ConflictError, match="decision d1 already has a dwell reward"):
        store.append_event(reward_event(decision_id="d1", value=1.0, kind="dwell"))
    with pytest.raises(ConflictError), store.transaction() as session:  # nothing of the batch stays
        store.append_events([decision_event(decision_id="d3"), reward_event(decision_id="d1", kind="click")],
                            session=session)
    assert len(store.events(decision_id="d1")) == 5 and store.events(decision_id="d3") == []


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown event kind"):
        Event("click")


def test_events_cannot_be_updated(store: Store) -> None:
    store.append_event(decision_event(ad="ad1"))
    with pytest.raises(DBAPIError, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE events SET ad_id = 'other'"))
    assert store.events()[0].ad_id == "ad1"


def test_prune_removes_only_old_events(store: Store) -> None:
    now = utcnow()
    store.append_events([decision_event(now - timedelta(days=40)), decision_event(now)])
    assert store.prune_events(now - timedelta(days=30)) == 1
    assert len(store.events()) == 1


def test_erasure_removes_events_naming_the_member(store: Store) -> None:
    store.add_customer("alice")
    store.append_events([decision_event(customer="alice"), decision_event(customer=None)])
    store.remove_customer("alice")
    assert [e.customer_id for e in store.events()] == [None]


def test_caps_do_not_count_events_at_impossible_times(store: Store) -> None:
    """A decision an older adlens logged for 9999 must not fill a daily cap for good."""
    store.append_events([decision_event(utcnow(), ad="a"), decision_event(utcnow().replace(year=9999), ad="a")])
    assert store.count_events(DECISION, since=utcnow() - timedelta(hours=1), ad_id="a") == 1


def test_decision_totals_sum_in_sql_and_keep_each_screens_latest(store: Store) -> None:
    now = utcnow()
    audience = [(summary(2, 1), "door", -50), (summary(3, 3), "door", -10), (summary(1, 0), "till", -20),
                (summary(seen=False), "till", -5), (summary(9, 9), "door", -900)]  # the last too old for the window
    store.append_events([decision_event(now + timedelta(seconds=s), screen, f"d{i}", f"ad{i}", audience=a)
                         for i, (a, screen, s) in enumerate(audience)])
    store.append_events([play_event(now, "door", "d1", "ad1", value=5.0)])
    count, faces, watchers, latest = store.decision_totals(now - timedelta(minutes=5), now + timedelta(minutes=1))
    assert (count, faces, watchers) == (4, 6, 4)
    assert {(e.screen, e.decision_id) for e in latest} == {("door", "d1"), ("till", "d3")}
    assert store.decision_totals(now + timedelta(minutes=1), now + timedelta(minutes=2)) == (0, 0, 0, [])


def test_a_payload_adlens_did_not_write_is_refused_with_the_event_named(store: Store) -> None:
    """Read strictly: a hand-edited payload is an error naming the event, never a report's silent 0."""
    [decision_id] = store.append_events([decision_event(decision_id="d1")])
    with store.engine.begin() as connection:  # a row some other writer put there
        play_id = connection.execute(insert(EventRow.__table__).values(
            kind=PLAY, at=utcnow(), decision_id="d1", data={"duration": 3.0, "ots": "many"})).inserted_primary_key[0]
    with pytest.raises(InvalidEventError, match=rf"event {play_id} \(play\) holds data adlens did not write: ots"):
        store.events()
    assert store.decision_event("d1").id == decision_id  # the other rows still read
