"""The audience stage: attention, distance, summary and features from synthetic faces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from adlens.audience import FEATURE_NAMES, Audience, attention, distance
from adlens.columns import face_labels
from adlens.faces import EMOTIONS, Faces
from builders import make_faces

FRONTAL = np.array([[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]], dtype=np.float32)


def faces_with(landmarks: list[np.ndarray], ages: list[float] | None = None, widths: list[float] | None = None,
               emotion: np.ndarray | None = None) -> Faces:
    n = len(landmarks)
    boxes = [[0, 0, w, w * 1.2] for w in widths or [100.0] * n]
    columns: dict[str, Any] = {} if ages is None else {"age": np.array(ages, np.float32), "gender": "male"}
    if emotion is not None:
        columns["emotion"] = emotion
    return make_faces(boxes, landmarks=np.reshape(landmarks, (n, 5, 2)), scores=1.0, **columns)


@pytest.mark.parametrize(("nose_shift", "expected"), [(0.0, 1.0), (14.0, 0.5), (40.0, 0.0)])
def test_attention_falls_as_the_head_turns(nose_shift: float, expected: float) -> None:
    turned = FRONTAL.copy()
    turned[2, 0] += nose_shift  # the nose leaves the eyes' midline: the head turns
    assert attention(turned[None])[0] == pytest.approx(expected, abs=0.05)


def test_distance_halves_when_the_face_doubles() -> None:
    near, far = distance(np.array([[0, 0, 200, 240], [0, 0, 100, 120]]), 1280)
    assert far == pytest.approx(2 * near)
    assert 0.5 < near < 2.0  # a 200-px face in a 1280-px frame is about a metre away


def test_summary_is_aggregate_and_flags_possible_minors() -> None:
    audience = Audience.from_faces(faces_with([FRONTAL, FRONTAL], ages=[34, 19]), (1280, 720), "door")
    summary = audience.summary(adult_age=25)
    assert summary.faces == 2 and summary.watchers == 2 and summary.members == 0
    assert summary.ages["25-34"] == 1 and summary.ages["18-24"] == 1
    assert summary.genders == {"male": 2, "female": 0}
    assert summary.minor_possible is True
    assert audience.summary(adult_age=18).minor_possible is False


def test_unknown_ages_count_as_possible_minors_and_nobody_as_none() -> None:
    assert Audience.from_faces(faces_with([FRONTAL]), (640, 480), "s").minor_possible(25)
    assert not Audience.from_faces(faces_with([]), (640, 480), "s").minor_possible(25)


def test_main_face_is_the_nearest_watcher() -> None:
    turned = FRONTAL.copy()
    turned[2, 0] += 40
    faces = faces_with([turned, FRONTAL, FRONTAL], widths=[300, 150, 100])
    assert Audience.from_faces(faces, (1280, 720), "s").main_face() == 1


def test_group_emotion_weights_watchers_double() -> None:
    turned = FRONTAL.copy()
    turned[2, 0] += 40
    emotion = np.zeros((2, 7), np.float32)
    emotion[0, EMOTIONS.index("happy")] = 1
    emotion[1, EMOTIONS.index("sad")] = 1
    audience = Audience.from_faces(faces_with([FRONTAL, turned], emotion=emotion), (640, 480), "s")
    group = audience.group_emotion()
    assert group[EMOTIONS.index("happy")] == pytest.approx(2 / 3)
    assert audience.summary().dominant_emotion == "happy"


def test_features_have_fixed_names_and_time_of_day() -> None:
    noon = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    empty = Audience.from_faces(faces_with([]), (640, 480), "s", at=noon).features()
    assert empty.shape == (len(FEATURE_NAMES),) and empty[0] == 1.0
    assert empty[FEATURE_NAMES.index("hour_cos")] == pytest.approx(-1.0)
    full = Audience.from_faces(faces_with([FRONTAL], ages=[30]), (640, 480), "s", at=noon).features()
    assert full[FEATURE_NAMES.index("young_adult")] == 1.0 and full[FEATURE_NAMES.index("male")] == 1.0


def test_customers_must_match_faces_and_time_must_be_aware() -> None:
    faces = faces_with([FRONTAL])
    with pytest.raises(ValueError, match="customer ids"):
        Audience.from_faces(faces, (640, 480), "s", customers=["a", "b"])
    with pytest.raises(ValueError, match="timezone-aware"):
        Audience(faces, (640, 480), "s", at=datetime(2026, 1, 1))


@pytest.mark.parametrize("age", [24.96, 17.99, 64.5, 12.999, 0.4, 34.99])
def test_summary_brackets_are_those_of_the_ages_shown(age: float) -> None:
    """The bracket counted for a face is the one beside the age its label shows ("age 24 (18-24)")."""
    faces = faces_with([FRONTAL], ages=[age])
    (label,) = [line for line in face_labels(faces, 0) if line.startswith("age")]
    shown, bracket = label.removeprefix("age ").rstrip(")").split(" (")
    summary = Audience.from_faces(faces, (640, 480), "s").summary(adult_age=25)
    assert summary.ages[bracket] == 1 and sum(summary.ages.values()) == 1
    low, _, high = bracket.partition("-")
    assert int(low.rstrip("+")) <= int(shown) <= (int(high) if high else 200)
    assert summary.minor_possible is (int(shown) < 25)  # "age 24" may be a minor at 25, whatever the tenths


def test_what_an_audience_derives_is_computed_once_and_read_only() -> None:
    emotion = np.zeros((2, 7), np.float32)
    emotion[:, EMOTIONS.index("happy")] = 1
    audience = Audience.from_faces(faces_with([FRONTAL, FRONTAL], emotion=emotion), (640, 480), "s")
    assert audience.watching is audience.watching and audience.group_emotion() is audience.group_emotion()
    assert audience.dominant_emotions() is audience.dominant_emotions()
    assert audience.dominant_emotions().tolist() == ["happy", "happy"]
    assert Audience.from_faces(faces_with([FRONTAL]), (640, 480), "s").dominant_emotions() is None
    for array in (audience.watching, audience.group_emotion(), audience.dominant_emotions()):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    members = audience.members
    members.append("intruder")  # a copy: the audience's own list cannot change
    assert audience.members == []
    assert Audience.from_faces(Faces.empty(), (640, 480), "s").main_face() is None
