from __future__ import annotations

import numpy as np
import pytest

from adlens.attributes import ATTRIBUTE_MODELS, create_attribute_model
from adlens.columns import face_records
from adlens.errors import InvalidImageError, UnknownNameError
from adlens.faces import AGE_BRACKETS, EMOTIONS, Faces
from adlens.imageio import load_image


@pytest.fixture(scope="module", params=sorted(ATTRIBUTE_MODELS))
def model(request, faces_small):
    return create_attribute_model(request.param).load()


def test_factory_refuses_unknown_names():
    with pytest.raises(UnknownNameError, match="emotion-mini-xception"):
        create_attribute_model("hsemotion")


def test_columns_for_every_face(model, analyzer, faces_small):
    image = load_image(faces_small / "test" / "obama_and_biden.jpg")
    faces = analyzer.detector.detect(image)
    result = model.predict(image, faces)
    assert len(result) == len(faces) == 3
    for column in model.columns:
        assert len(result.data[column]) == 3
    if "emotion" in model.columns:
        emotion = result.data["emotion"]
        assert emotion.shape == (3, len(EMOTIONS))
        np.testing.assert_allclose(emotion.sum(axis=1), 1.0, atol=1e-4)
        assert np.all(emotion >= 0)
    if "age" in model.columns:
        assert np.all((result.data["age"] >= 0) & (result.data["age"] <= 116))
    if "gender" in model.columns:
        assert set(result.data["gender"]) <= {"male", "female"}
        assert np.all(result.data["gender_confidence"] >= 0.5)


def test_no_faces_gives_empty_columns(model):
    result = model.predict(np.zeros((50, 50, 3), np.uint8), Faces.empty())
    assert len(result) == 0 and set(model.columns) <= set(result.data)


def test_refuses_non_bgr(model):
    with pytest.raises(InvalidImageError):
        model.predict(np.zeros((50, 50), np.uint8), Faces.empty())


@pytest.mark.parametrize(("photo", "gender"), [("obama-720p.jpg", "male"), ("train/rose_leslie/img1.jpg", "female")])
def test_default_gender_on_real_photos(analyzer, faces_small, photo, gender):
    faces = analyzer.analyze(faces_small / photo)
    assert faces.data["gender"][0] == gender


def test_age_bracket_in_json(analyzer, faces_small):
    record = face_records(analyzer.analyze(faces_small / "obama-480p.jpg"))[0]
    assert record["age_bracket"] in {label for label, _, _ in AGE_BRACKETS}
    assert record["dominant_emotion"] == max(record["emotion"], key=record["emotion"].get)
