"""Cydral's age and gender networks: their input, their output, and dlib's chips under them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adlens.attributes import create_attribute_model
from adlens.attributes.cydral import CYDRAL_AGES, CYDRAL_MEAN, CYDRAL_PADDING, CydralAge, CydralGender
from adlens.detectors import create_detector
from adlens.settings import Settings


def test_input_is_rgb_minus_the_mean_over_256_nchw():
    crops = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    batch = CydralAge()._preprocess(crops)
    assert batch.shape == (2, 3, 64, 64) and batch.dtype == np.float32 and batch.flags.c_contiguous
    for channel in range(3):
        np.testing.assert_allclose(batch[:, channel], (crops[..., channel] - CYDRAL_MEAN[channel]) / 256.0, rtol=1e-6)


@pytest.mark.parametrize(("klass", "age"), [(0, 0.25), (1, 1.0), (25, 25.0), (80, 80.0)])
def test_age_is_the_expectation_over_the_81_classes(klass, age):
    one_hot = np.zeros((1, 81), dtype=np.float32)
    one_hot[0, klass] = 1.0
    assert CydralAge()._postprocess(one_hot)["age"][0] == pytest.approx(age)
    halves = np.zeros((1, 81), dtype=np.float32)
    halves[0, [20, 30]] = 0.5
    assert CydralAge()._postprocess(halves)["age"][0] == pytest.approx(25.0)
    assert len(CYDRAL_AGES) == 81


@pytest.mark.parametrize(("output", "gender", "confidence"), [([0.8, 0.2], "female", 0.8), ([0.1, 0.9], "male", 0.9)])
def test_gender_reads_female_then_male(output, gender, confidence):
    columns = CydralGender()._postprocess(np.array([output], dtype=np.float32))
    assert columns["gender"][0] == gender and columns["gender_confidence"][0] == pytest.approx(confidence)


def test_each_model_needs_its_network_and_dlibs_landmarks():
    assert CydralAge.required_models == ("age-cydral", "dlib-landmarks-5")
    assert CydralGender.required_models == ("gender-cydral", "dlib-landmarks-5")
    assert CydralAge(Settings(detector="dlib")).aligner.detector == "dlib"


@pytest.fixture(scope="module")
def photo(faces_small):
    image = cv2.imread(str(faces_small / "test" / "obama_and_biden.jpg"))
    return image, create_detector("yunet").detect(image)


@pytest.mark.parametrize("name", ["age-cydral", "gender-cydral"])
def test_predict_runs_on_dlibs_chips_and_their_mirrors(photo, name):
    image, faces = photo
    model = create_attribute_model(name).load()
    chips = model.aligner.chips(image, faces, model.crop.size, CYDRAL_PADDING)
    assert model.aligner.chips(image, faces).shape[1] == 150  # the embedder's chips are unchanged
    column = model.columns[0]
    predicted = model.predict(image, faces).data[column]
    np.testing.assert_array_equal(predicted, model.predict_crops(chips)[column])
    plain = model._postprocess(model._session.run(model._preprocess(chips)))[column]
    mirrored = model._postprocess(model._session.run(model._preprocess(chips[:, :, ::-1])))[column]
    if column == "age":
        np.testing.assert_allclose(predicted, (plain + mirrored) / 2, atol=1e-3)
        assert np.all((predicted[:2] > 35) & (predicted[:2] < 80))  # two grown men (and a girl)
    else:
        assert list(predicted) == ["male", "male", "female"]
