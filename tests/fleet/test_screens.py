"""Live screens shared in Redis: a screen's frames may reach any worker and it plays as on one worker."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from adlens.fleet import screens as shared
from adlens.fleet.screens import SharedLiveScreens
from adlens.settings import Settings
from adlens.signage.live import LiveScreens
from builders import FakeDecider, make_faces
from livescreens import BROKEN, FRAME, Analyzer, Clock, Store, push_at

TIMEOUT = 5.0

#: (time, screen, worker, frame) sequences: each frame goes to worker 0 or 1.
SCENARIOS = {
    "alternating": [(t, "door", i % 2, FRAME) for i, t in enumerate([0.0, 1.0, 2.5, 3.0, 4.5, 6.0])],
    "two screens": [(0.0, "door", 0, FRAME), (0.5, "window", 1, FRAME), (1.0, "door", 1, FRAME),
                    (2.0, "window", 0, FRAME), (2.5, "door", 0, FRAME), (3.0, "window", 1, FRAME)],
    "a broken frame": [(0.0, "door", 1, FRAME), (1.0, "door", 0, BROKEN), (2.0, "door", 1, FRAME)],
    "silent, then back": [(0.0, "door", 0, FRAME), (1.0, "door", 1, FRAME), (20.0, "door", 0, FRAME)],
}


@pytest.fixture
def fleet_of(fleet, monkeypatch):
    """``fleet_of(ads)`` → (two workers' SharedLiveScreens, clock, event log, decider), the decider and log shared."""
    monkeypatch.setattr(shared, "SWEEP_SECONDS", 0.0)

    def build(ads=(("a", 2.0), ("b", 2.0)), redis=fleet) -> tuple[list[SharedLiveScreens], Clock, Store, Any]:
        clock, store, decider = Clock(), Store(), FakeDecider(ads)
        settings = Settings(live_screen_timeout=TIMEOUT, ad_duration=7.0)
        workers = [SharedLiveScreens(redis, decider, store, Analyzer(make_faces), settings, clock=clock)
                   for _ in range(2)]
        return workers, clock, store, decider

    return build


def outcome(result) -> tuple[str | None, bool, float]:
    return (result.decision.ad if result.decision else None, result.new, result.remaining)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_screen_plays_across_workers_as_on_one(fleet_of, name: str) -> None:
    frames = SCENARIOS[name]
    one_clock, one_store, one_decider = Clock(), Store(), FakeDecider((("a", 2.0), ("b", 2.0)))
    one = LiveScreens(one_decider, one_store, Analyzer(make_faces), Settings(live_screen_timeout=TIMEOUT,
                      ad_duration=7.0), clock=one_clock)
    expected = [outcome(push_at(one, one_clock, t, screen, image)) for t, screen, _, image in frames]
    one.close()
    workers, clock, store, decider = fleet_of()
    found = [outcome(push_at(workers[w], clock, t, screen, image)) for t, screen, w, image in frames]
    assert found == expected
    assert [call["person_key"] for call in decider.calls] == [call["person_key"] for call in one_decider.calls]
    clock.now = frames[-1][0] + TIMEOUT + 1
    workers[1].expire()
    assert sorted(store.plays()) == sorted(one_store.plays())


def test_a_silent_screen_is_finished_once_by_whichever_worker_sweeps(fleet_of, fleet) -> None:
    workers, clock, store, _ = fleet_of()
    push_at(workers[0], clock, 0.0, "door")
    push_at(workers[1], clock, 1.0, "door")
    push_at(workers[1], clock, 1.0, "window")
    assert len(workers[0]) == len(workers[1]) == 2  # across the fleet
    assert 0 < fleet.client.ttl(fleet.key("live", "screen", "door")) <= shared.TTL_FACTOR * TIMEOUT
    clock.now = 1.0 + TIMEOUT
    assert workers[0].expire() == 0  # silent for exactly the timeout: not yet
    assert len(workers[1]) == 2
    clock.now = 1.0 + TIMEOUT + 0.01
    assert len(workers[1]) == 0  # silent screens are not counted, even before a sweep
    assert workers[1].expire() == 2 and workers[0].expire() == 0
    assert sorted(store.plays()) == [("door", "a", 1.0), ("window", "b", 0.0)]
    assert len(workers[0]) == 0 and not fleet.client.exists(fleet.key("live", "screen", "door"))


def test_a_worker_closing_leaves_the_shared_screens_to_the_others(fleet_of) -> None:
    workers, clock, store, _ = fleet_of()
    push_at(workers[0], clock, 0.0, "door")
    workers[0].close()
    assert store.plays() == [] and len(workers[1]) == 1
    assert outcome(push_at(workers[1], clock, 1.0, "door")) == ("a", False, 1.0)


def test_an_unreadable_state_starts_the_screen_afresh(fleet_of, fleet, caplog) -> None:
    workers, clock, _, _ = fleet_of()
    push_at(workers[0], clock, 0.0, "door")
    fleet.client.set(fleet.key("live", "screen", "door"), b"garbage")
    with caplog.at_level(logging.WARNING, logger="adlens.fleet"):
        assert outcome(push_at(workers[1], clock, 1.0, "door")) == ("b", True, 2.0)
    assert "its stored state is unreadable" in caplog.text


def test_unreachable_redis_keeps_each_workers_own_state(fleet_of, dead_fleet, caplog) -> None:
    workers, clock, store, _ = fleet_of(redis=dead_fleet)
    with caplog.at_level(logging.WARNING, logger="adlens.fleet"):
        assert outcome(push_at(workers[0], clock, 0.0, "door")) == ("a", True, 2.0)
        assert outcome(push_at(workers[0], clock, 1.0, "door")) == ("a", False, 1.0)
    assert len(workers[0]) == 1 and "each worker keeps the state" in caplog.text
    workers[0].close()
    assert store.plays() == [("door", "a", 1.0)]


def test_the_state_kept_during_an_outage_ends_when_redis_is_back(fleet_of, fleet, dead_fleet) -> None:
    workers, clock, store, _ = fleet_of(redis=dead_fleet)
    push_at(workers[0], clock, 0.0, "door")
    push_at(workers[0], clock, 1.0, "door")
    workers[0].fleet, workers[0].outage.down_since = fleet, None  # Redis is back
    assert outcome(push_at(workers[0], clock, 2.0, "door")) == ("b", True, 2.0)
    assert store.plays() == [("door", "a", 1.0)] and len(workers[0]) == 1  # the local play ended, logged once
    workers[0].close()
    assert len(store.plays()) == 1


def test_states_are_compact(fleet_of, fleet) -> None:
    workers, clock, _, _ = fleet_of()
    for t in np.arange(0.0, 10.0, 0.5):
        push_at(workers[int(t * 2) % 2], clock, float(t), "door")
    assert len(fleet.client.get(fleet.key("live", "screen", "door"))) < 4096
