"""A live screen's state as bytes and back: the tracks, the play and the shown-to history survive whole."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from adlens.settings import Settings
from adlens.signage import livestate
from adlens.signage.live import LiveScreens
from builders import FakeDecider, make_faces
from livescreens import Clock, Store, push_at


class Analyzer:
    """Two people with embeddings, emotion, age and gender (the columns a track smooths)."""

    embedder = object()

    def analyze_array(self, image: np.ndarray):
        return make_faces([[10, 10, 50, 50], [200, 10, 50, 50]], [np.eye(8)[0], np.eye(8)[1]],
                          emotion=np.array([[0.1] * 6 + [0.4], [0.7] + [0.05] * 6], dtype=np.float32),
                          age=np.array([31.0, 52.0], dtype=np.float32), gender=np.array(["woman", "man"]),
                          eyewear=np.array([True, False]))


@pytest.fixture
def screens() -> tuple[LiveScreens, Clock]:
    clock = Clock()
    return LiveScreens(FakeDecider((("a", 5.0), ("b", 5.0))), Store(), Analyzer(),
                       Settings(live_screen_timeout=30.0), clock=clock), clock


def test_a_state_comes_back_whole(screens) -> None:
    live, clock = screens
    for t in (0.0, 0.5, 1.0):
        push_at(live, clock, t)
    state = live._screens["door"]
    back = livestate.load(livestate.dump(state), live.new_loop("door"))
    assert (back.started, back.last, back.frames) == (state.started, state.last, state.frames)
    before, after = state.loop, back.loop
    assert after._start == before._start and after._shown == before._shown
    assert after.tracker.count == before.tracker.count == 2
    for old, new in zip(before.tracker.tracks, after.tracker.tracks, strict=True):
        assert old.columns().keys() == new.columns().keys()
        for name, value in old.columns().items():
            np.testing.assert_array_equal(np.asarray(new.columns()[name]), np.asarray(value))
        for field in ("id", "first_seen", "last_seen", "hits", "dwell", "attention_time", "attention", "watched",
                      "refreshed", "window"):
            assert getattr(new, field) == getattr(old, field)
        np.testing.assert_array_equal(new.embedding, old.embedding)
        np.testing.assert_array_equal(new.box, old.box)
        assert new.emotions.maxlen == old.emotions.maxlen
    assert after.play is not None and before.play is not None
    assert after.play.decision == before.play.decision
    assert (after.play.people, after.play.watchers, after.play.ids) == (before.play.people, before.play.watchers,
                                                                       before.play.ids)
    np.testing.assert_array_equal(after.play.emotion, before.play.emotion)
    assert after.play.data(2.0) == before.play.data(2.0)


def test_the_shown_history_keeps_only_people_still_tracked(screens) -> None:
    live, clock = screens
    push_at(live, clock, 0.0)
    loop = live._screens["door"].loop
    loop._shown["door:track:99"] = {"a": [loop._start]}  # a person whose track ended long ago
    found = json.loads(zlib.decompress(livestate.dump(live._screens["door"])))
    assert "door:track:99" not in found["shown"] and set(found["shown"]) <= {"door:track:1", "door:track:2"}


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"not zlib", "not a live screen state"), (zlib.compress(b'{"format": 999}'), "of format 999"),
     (zlib.compress(b'{"format": 1}'), "not a live screen state")],
)
def test_a_foreign_state_is_refused(screens, data: bytes, match: str) -> None:
    live, _ = screens
    with pytest.raises(ValueError, match=match):
        livestate.load(data, live.new_loop("door"))
