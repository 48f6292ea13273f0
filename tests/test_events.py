"""Typed event payloads: built once, kept as JSON, read back strictly."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidEventError, InvalidInputError
from adlens.events import (
    DECISION, PLAY, REWARD, Candidate, DecisionData, Event, PlayData, RewardData, payload_from_json,
)
from adlens.faces import EMOTIONS
from eventlog import decision_event, play_event, reward_event, summary


@pytest.mark.parametrize("event", [
    decision_event(ad="a", audience=summary(2, 1, ages={"18-24": 2}), reasons=["targets x: 1"], features=[1.0, 0.5],
                   candidates=[Candidate(ad="a", eligible=True, score=1.2, scores={"total": 1.2}, reasons=[])]),
    play_event(value=8.0, ots=3, watchers=2, dwell=12.5, attention=4.0, emotions={"happy": 1.0}, planned=10.0),
    reward_event(value=0.7, kind="click", raw=1.0),
], ids=[DECISION, PLAY, REWARD])
def test_payloads_round_trip_through_json(event: Event) -> None:
    assert payload_from_json(event.kind, event.payload_json(), 1) == event.data


@pytest.mark.parametrize(("kind", "data", "problem"), [
    (PLAY, {"duration": 3.0, "ots": 2}, "watchers: Field required"),
    (PLAY, {**play_event(ots=1).payload_json(), "ots": "many"}, "ots: Input should be a valid integer"),
    (PLAY, {**play_event(ots=1).payload_json(), "dwell": -5}, "dwell: Input should be greater than or equal to 0"),
    (DECISION, {**decision_event().payload_json(), "audience": "junk"}, "audience: Input should be a valid"),
    (DECISION, {**decision_event().payload_json(), "reasons": "not a list"}, "reasons: Input should be a valid list"),
    (REWARD, None, "data: Input should be a valid dictionary"),
    ("click", {}, "unknown kind 'click'"),
])
def test_reading_is_strict_and_names_the_event(kind: str, data: object, problem: str) -> None:
    with pytest.raises(InvalidEventError, match=f"event 42.*{problem}"):
        payload_from_json(kind, data, 42)


def test_unknown_keys_are_ignored_for_a_newer_writer() -> None:
    data = {**reward_event(kind="dwell", raw=3.0).payload_json(), "note": "a later field"}
    assert payload_from_json(REWARD, data) == RewardData(kind="dwell", raw=3.0)


def test_an_event_takes_its_kinds_payload_only() -> None:
    with pytest.raises(InvalidInputError, match="a play event takes a PlayData, not RewardData"):
        Event(PLAY, data=RewardData(kind="dwell", raw=1.0))
    with pytest.raises(InvalidInputError, match="a decision event takes a DecisionData, not NoneType"):
        Event(DECISION)


def test_a_single_frame_play_credits_every_face_for_the_whole_dwell() -> None:
    seen = summary(3, 2, emotions={"happy": 0.75, "neutral": 0.25})
    play = PlayData.of_frame(seen, duration=10.0, dwell=4.0)
    assert (play.ots, play.watchers, play.dwell, play.attention) == (3, 2, 12.0, 8.0)
    assert play.emotions == seen.emotions and play.audience == seen and play.planned is None


def test_a_tracked_play_rounds_as_stored_and_averages_emotion() -> None:
    emotion = np.zeros(len(EMOTIONS))
    emotion[EMOTIONS.index("sad")] = 1 / 3
    emotion[EMOTIONS.index("happy")] = 2 / 3
    play = PlayData.of_tracks(summary(1, 1), seconds=7.12345, planned=10.0, people=2, watchers=1, dwell=9.87654,
                              attention=1.00049, emotion=emotion)
    assert (play.duration, play.dwell, play.attention, play.planned) == (7.123, 9.877, 1.0, 10.0)
    assert play.emotions["happy"] == 0.6667 and play.emotions["sad"] == 0.3333 and play.emotions["angry"] == 0.0
    assert PlayData.of_tracks(summary(), 1.0, 1.0, 0, 0, 0.0, 0.0, None).emotions == {}


def test_decision_payload_is_frozen() -> None:
    data = decision_event().data
    assert isinstance(data, DecisionData)
    with pytest.raises(ValueError, match="frozen"):
        data.mode = "members"  # type: ignore[misc]
