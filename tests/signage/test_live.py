"""Live screens: frames pushed one by one get the signage loop's decisions, per screen, and silent screens expire."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from adlens.settings import Settings
from adlens.signage.live import SOURCE, LiveScreens
from livescreens import BROKEN, FRAME, Analyzer, Clock, Store, push_at

TIMEOUT = 5.0


@pytest.fixture
def live(make_faces: Any, fake_decider: Any):
    """A factory: ``live(ads)`` → (screens, clock, store, decider); ads are (id, seconds) pairs."""

    def build(ads=(("a", 10.0), ("b", 10.0))) -> tuple[LiveScreens, Clock, Store, Any]:
        clock, store, decider = Clock(), Store(), fake_decider(ads)
        settings = Settings(live_screen_timeout=TIMEOUT, ad_duration=7.0)
        return LiveScreens(decider, store, Analyzer(make_faces), settings, clock=clock), clock, store, decider

    return build


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0.0], [("a", True, 10.0)]),
        ([0.0, 1.0, 2.5], [("a", True, 10.0), ("a", False, 9.0), ("a", False, 7.5)]),  # the ad keeps playing
        ([100.0, 100.25], [("a", True, 10.0), ("a", False, 9.75)]),  # times count from the screen's first frame
    ],
)
def test_results_follow_the_play(live, times: list[float], expected: list[tuple[str, bool, float]]) -> None:
    screens, clock, _, decider = live()
    results = [push_at(screens, clock, t) for t in times]
    assert [(r.decision.ad, r.new, r.remaining) for r in results] == expected
    assert {call["source"] for call in decider.calls} == {SOURCE} == {"live"}


def test_an_ad_that_ended_is_logged_when_the_next_starts(live) -> None:
    screens, clock, store, _ = live((("a", 2.0), ("b", 2.0)))
    results = [push_at(screens, clock, t) for t in (0.0, 1.0, 2.5, 3.0)]
    assert [(r.decision.ad, r.new, r.remaining) for r in results] == [
        ("a", True, 2.0), ("a", False, 1.0), ("b", True, 2.0), ("b", False, 1.5)]
    assert store.plays() == [("door", "a", 2.5)]


def test_nothing_eligible_shows_nothing_for_the_configured_time_and_logs_no_play(live) -> None:
    screens, clock, store, _ = live(((None, 0.0),))  # the decision names no ad and no creative
    first = push_at(screens, clock, 0.0)
    assert (first.decision.ad, first.new, first.remaining) == (None, True, 7.0)  # settings.ad_duration
    screens.close()
    assert store.plays() == []


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ([(0.0, BROKEN)], [(None, False, 0.0)]),  # nothing decided yet: nothing to show
        ([(0.0, FRAME), (1.0, BROKEN)], [("a", True, 10.0), ("a", False, 9.0)]),  # the screen keeps playing
        ([(0.0, BROKEN), (1.0, FRAME)], [(None, False, 0.0), ("a", True, 10.0)]),
    ],
)
def test_a_broken_frame_is_skipped(live, frames: list[tuple[float, np.ndarray]],
                                   expected: list[tuple[str | None, bool, float]]) -> None:
    screens, clock, _, _ = live()
    results = [push_at(screens, clock, t, image=image) for t, image in frames]
    assert [(r.decision.ad if r.decision else None, r.new, r.remaining) for r in results] == expected


def test_each_screen_has_its_own_state(live) -> None:
    screens, clock, _, decider = live()
    assert len(screens) == 0
    assert push_at(screens, clock, 0.0, "door").decision.ad == "a"
    assert push_at(screens, clock, 1.0, "window").decision.ad == "b"  # the fake decider takes turns
    door = push_at(screens, clock, 2.0, "door")
    assert (door.decision.ad, door.new, door.remaining) == ("a", False, 8.0)
    window = push_at(screens, clock, 2.0, "window")
    assert (window.decision.ad, window.new, window.remaining) == ("b", False, 9.0)
    assert len(screens) == 2 and len(decider.calls) == 2


@pytest.mark.parametrize(
    ("silent", "dropped"),
    [(TIMEOUT - 0.5, 0), (TIMEOUT, 0), (TIMEOUT + 0.01, 1)],  # strictly longer than the timeout
)
def test_expire(live, silent: float, dropped: int) -> None:
    screens, clock, store, _ = live()
    push_at(screens, clock, 0.0)
    push_at(screens, clock, 1.0)
    clock.now = 1.0 + silent
    assert screens.expire() == dropped
    assert len(screens) == 1 - dropped
    # The last frame stayed on screen until the screen fell silent: the play lasted 1 s.
    assert store.plays() == ([("door", "a", 1.0)] if dropped else [])


def test_a_push_expires_the_silent_screens_and_a_returning_screen_starts_afresh(live) -> None:
    screens, clock, store, _ = live()
    push_at(screens, clock, 0.0, "door")
    push_at(screens, clock, 1.5, "door")
    window = push_at(screens, clock, 20.0, "window")
    assert len(screens) == 1 and store.plays() == [("door", "a", 1.5)]
    assert (window.decision.ad, window.new) == ("b", True)
    again = push_at(screens, clock, 21.0, "door")
    assert (again.decision.ad, again.new, again.remaining) == ("a", True, 10.0)  # a new play, not the old one


def test_close_logs_every_play_once_and_forgets_the_screens(live) -> None:
    screens, clock, store, _ = live()
    push_at(screens, clock, 0.0, "door")
    push_at(screens, clock, 2.0, "window")
    push_at(screens, clock, 4.0, "window")
    screens.close()
    assert len(screens) == 0
    assert sorted(store.plays()) == [("door", "a", 0.0), ("window", "b", 2.0)]
    screens.close()
    assert screens.expire() == 0 and len(store.plays()) == 2


def test_frames_are_analysed_and_not_kept(live) -> None:
    screens, clock, _, _ = live()
    analyzer = screens.analyzer
    for t in (0.0, 0.5, 1.0):
        push_at(screens, clock, t)
    assert len(analyzer.images) == 3
    state = screens._screens["door"]
    assert state.frames == 3 and not hasattr(state, "image")


def test_concurrent_pushes(live) -> None:
    """Frames of several screens from several threads: every frame counted, one decision per screen."""
    screens, clock, _, decider = live()
    clock.now = 1.0

    def send(screen: str) -> None:
        for _ in range(10):
            screens.push(screen, FRAME)

    threads = [threading.Thread(target=send, args=(name,)) for name in ("a", "b", "a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: state.frames for name, state in screens._screens.items()} == {"a": 20, "b": 20}
    assert len(decider.calls) == 2
