"""Tests for adlens.columns: the per-face columns declared once, and the JSON, CSV and labels derived from them."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from adlens.columns import (
    ATTRIBUTE_NAMES,
    ATTRIBUTES,
    COLUMNS,
    CSV_FIELDS,
    csv_values,
    face_labels,
    face_records,
)
from adlens.faces import EMOTIONS, Faces
from adlens.settings import Settings
from builders import make_faces

# --------------------------------------------------------------------------- helpers


def faces_with(n: int, embeddings: np.ndarray | None = None, data: dict[str, np.ndarray] | None = None) -> Faces:
    """``n`` faces side by side (the shared builder) with the ``data`` columns."""
    return make_faces(n, embeddings).with_columns(**(data or {}))


def labelled_faces() -> Faces:
    emotion = np.zeros((1, 7), np.float32)
    emotion[0, 3] = 0.9
    emotion[0, 6] = 0.1
    return make_faces([[40, 40, 60, 60]], emotion=emotion, age=31.0, gender="female", gender_confidence=0.96,
                      eyewear=0.25)


# --------------------------------------------------------------------------- the declaration


def test_the_binary_attributes() -> None:
    assert ATTRIBUTE_NAMES == ("eyewear", "beard", "hat")
    assert [a.label for a in ATTRIBUTES] == ["wears eyewear", "has a beard", "wears a hat"]
    assert all(a.tokens for a in ATTRIBUTES)


def test_no_race_or_ethnicity_column() -> None:
    names = {c.name for c in COLUMNS} | set(CSV_FIELDS) | set(ATTRIBUTE_NAMES)
    assert not {n for n in names if "race" in n or "ethnic" in n}


def test_csv_fields_keep_their_order() -> None:
    assert CSV_FIELDS == (*(f"emotion_{e}" for e in EMOTIONS), "dominant_emotion", "age", "age_bracket", "gender",
                          "gender_confidence", "eyewear", "beard", "hat")


@pytest.mark.parametrize(("threshold", "probabilities", "expected"), [
    (0.5, [0.49, 0.5, 0.9], [False, True, True]),
    (0.9, [0.49, 0.5, 0.9], [False, False, True]),
    (0.0, [0.0], [True]),
])
def test_attribute_present_at_the_threshold_setting(threshold: float | None, probabilities: list[float],
                                                     expected: list[bool]) -> None:
    settings = Settings() if threshold is None else Settings(attribute_threshold=threshold)
    for attribute in ATTRIBUTES:
        assert attribute.present(np.array(probabilities), settings).tolist() == expected


def test_threshold_setting_is_bounded() -> None:
    with pytest.raises(ValueError):
        Settings(attribute_threshold=1.5)
    with pytest.raises(ValueError):
        Settings(hat_threshold=-0.1)


def test_each_attribute_names_its_own_threshold_setting() -> None:
    assert [a.threshold_setting for a in ATTRIBUTES] == ["eyewear_threshold", "beard_threshold", "hat_threshold"]
    defaults = {a.name: a.threshold(Settings()) for a in ATTRIBUTES}
    assert defaults == {a.name: a.default_threshold for a in ATTRIBUTES}


def test_own_setting_then_attribute_threshold_then_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    beard = next(a for a in ATTRIBUTES if a.name == "beard")
    assert beard.threshold(Settings(attribute_threshold=0.3)) == 0.3  # the old setting still moves all three
    assert beard.threshold(Settings(attribute_threshold=0.3, beard_threshold=0.8)) == 0.8
    monkeypatch.setenv("ADLENS_BEARD_THRESHOLD", "0.7")
    monkeypatch.setenv("ADLENS_ATTRIBUTE_THRESHOLD", "0.2")
    settings = Settings()
    assert beard.threshold(settings) == 0.7
    assert [a.threshold(settings) for a in ATTRIBUTES if a.name != "beard"] == [0.2, 0.2]


# --------------------------------------------------------------------------- csv_values


def test_csv_values_of_a_full_record() -> None:
    (record,) = face_records(labelled_faces())
    values = csv_values(record)
    assert list(values) == list(CSV_FIELDS)
    assert values["emotion_happy"] == pytest.approx(0.9) and values["dominant_emotion"] == "happy"
    assert values["age"] == 31.0 and values["age_bracket"] == "25-34"
    assert values["gender"] == "female" and values["gender_confidence"] == 0.96
    assert values["eyewear"] == 0.25 and values["beard"] == "" and values["hat"] == ""


def test_csv_values_without_columns_are_empty() -> None:
    (record,) = face_records(faces_with(1))
    assert csv_values(record) == dict.fromkeys(CSV_FIELDS, "")


# --------------------------------------------------------------------------- face_labels


def test_labels_show_percentages_age_and_gender() -> None:
    lines = face_labels(labelled_faces(), 0)
    assert lines[0].startswith("happy 90%  neutral 10%")
    assert lines[1] == "age 31 (25-34)"
    assert lines[2] == "female 96%"
    assert lines[3] == "eyewear 25%"


@pytest.mark.parametrize(("data", "expected"), [
    ({"eyewear": [0.942], "beard": [0.01], "hat": [0.2]}, ["eyewear 94%  beard 1%  hat 20%"]),
    ({"gender": ["male"]}, ["male 100%"]),
    ({"gender_confidence": [0.7]}, []),
    ({"hat": [0.5], "track": [7], "distance": [2.345]}, ["hat 50%", "distance 2.35", "track 7"]),
    ({"vector": [[1, 2]]}, []),
])
def test_labels_of_each_column(data: dict[str, list[Any]], expected: list[str]) -> None:
    faces = faces_with(1, data={k: np.array(v) for k, v in data.items()})
    assert face_labels(faces, 0) == expected


@pytest.mark.parametrize(("age", "expected"), [
    (24.6, "age 24 (18-24)"),  # the shown age and its bracket come from one value: completed years
    (25.0, "age 25 (25-34)"),
    (17.99, "age 17 (13-17)"),
    (64.5, "age 64 (55-64)"),
    (-0.4, "age 0 (0-12)"),
])
def test_age_and_its_bracket_agree(age: float, expected: str) -> None:
    faces = Faces(np.array([[0, 0, 10, 10]]), np.array([0.9]), np.zeros((1, 5, 2)), data={"age": np.array([age])})
    assert face_labels(faces, 0) == [expected]


# --------------------------------------------------------------------------- face_records


def test_face_records_geometry() -> None:
    faces = Faces(
        np.array([[1.04, 2.26, 30.0, 40.51]]),
        np.array([0.987654]),
        np.arange(10, dtype=np.float64).reshape(1, 5, 2) + 0.123,
    )
    (record,) = face_records(faces)
    assert record == {
        "box": [1.0, 2.3, 30.0, 40.5],
        "score": 0.9877,
        "landmarks": [[0.1, 1.1], [2.1, 3.1], [4.1, 5.1], [6.1, 7.1], [8.1, 9.1]],
    }


def test_face_records_attribute_columns() -> None:
    emotion = np.array([[0.1, 0.0, 0.05, 0.6, 0.1, 0.05, 0.1], [0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.8]], dtype=np.float32)
    faces = faces_with(
        2,
        embeddings=np.ones((2, 3)),
        data={
            "emotion": emotion,
            "age": np.array([24.96, 65.0], dtype=np.float32),
            "gender": np.array(["female", "male"]),
            "gender_score": np.array([0.912345, 0.5], dtype=np.float32),
            "track_id": np.array([7, 8], dtype=np.int64),
            "looking": np.array([True, False]),
            "vector": np.array([[1, 2], [3, 4]], dtype=np.int32),
        },
    )
    records = face_records(faces)
    assert len(records) == 2
    first, second = records
    assert list(first["emotion"]) == list(EMOTIONS)
    assert first["emotion"]["happy"] == pytest.approx(0.6)
    assert first["dominant_emotion"] == "happy"
    assert second["dominant_emotion"] == "neutral"
    assert first["age"] == 24.9  # tenths rounded down: the number and its bracket agree
    assert first["age_bracket"] == "18-24"
    assert second["age"] == 65.0 and second["age_bracket"] == "65+"
    assert first["gender"] == "female" and type(first["gender"]) is str
    assert first["gender_score"] == 0.9123 and type(first["gender_score"]) is float
    assert first["track_id"] == 7 and type(first["track_id"]) is int
    assert first["looking"] is True and second["looking"] is False
    assert first["vector"] == [1, 2]
    assert "embeddings" not in first and "embedding" not in first
    for record in records:
        for key in ("box", "score", "landmarks", "emotion", "dominant_emotion", "age", "age_bracket", "gender"):
            assert key in record
        assert all(type(v) is float for v in record["emotion"].values())
        assert all(type(v) is float for v in record["box"])
        assert type(record["score"]) is float
    assert json.loads(json.dumps(records)) == records


def test_face_records_of_a_slice_is_the_slice_of_the_records() -> None:
    faces = faces_with(3, data={"age": np.array([8.0, 30.0, 70.0]), "emotion": np.eye(7)[[3, 0, 6]]})
    assert face_records(faces[[2, 0]]) == [face_records(faces)[2], face_records(faces)[0]]
    json.dumps(face_records(faces))
