from __future__ import annotations

import cv2
import numpy as np
import pytest

from adlens.attributes import create_attribute_model
from adlens.attributes.emotion_ensemble import NetBigXceptionEmotion, XceptionPairEmotion
from adlens.evaluation.demographics import evaluate_emotion
from adlens.faces import EMOTIONS
from helpers import DATA, SHARED, need


@pytest.fixture(scope="module")
def pair():
    need(SHARED / "models")
    return create_attribute_model(XceptionPairEmotion.name).load()


def test_the_pair_is_the_mean_of_its_members(pair):
    crops = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 1), dtype=np.uint8)
    mini = create_attribute_model("emotion-mini-xception").predict_crops(crops)["emotion"]
    big = create_attribute_model("emotion-big-xception").predict_crops(crops)["emotion"]
    got = pair.predict_crops(crops)["emotion"]
    assert got.shape == (3, len(EMOTIONS)) and pair.crop.size == 64  # the Xceptions' own input
    np.testing.assert_allclose(got, (mini + big) / 2, atol=1e-6)


def test_members_get_their_own_size(pair):
    small = np.random.default_rng(1).integers(0, 256, (2, 48, 48, 1), dtype=np.uint8)
    enlarged = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_LINEAR) for c in small])[..., None]
    np.testing.assert_allclose(pair._session.run(small), pair._session.run(enlarged), atol=1e-6)
    large = np.random.default_rng(2).integers(0, 256, (2, 96, 96, 1), dtype=np.uint8)
    shrunk = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_AREA) for c in large])[..., None]
    np.testing.assert_allclose(pair._session.run(large), pair._session.run(shrunk), atol=1e-6)


def test_the_net_and_the_big_xception_each_see_their_own_size():
    need(SHARED / "models")
    ensemble = create_attribute_model(NetBigXceptionEmotion.name)
    assert ensemble.crop.size == 48 and ensemble.required_models == ("emotion-net", "emotion-big-xception")
    crops = np.random.default_rng(3).integers(0, 256, (3, 48, 48, 1), dtype=np.uint8)
    net = create_attribute_model("emotion-net").predict_crops(crops)["emotion"]
    enlarged = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_LINEAR) for c in crops])[..., None]
    big = create_attribute_model("emotion-big-xception").predict_crops(enlarged)["emotion"]
    np.testing.assert_allclose(ensemble.predict_crops(crops)["emotion"], (net + big) / 2, atol=1e-6)


@pytest.mark.slow
def test_pair_beats_either_xception_on_fer2013_privatetest():
    result = evaluate_emotion(need(DATA / "fer2013_privatetest" / "test"), model=XceptionPairEmotion.name)
    assert result["n"] == 3589 and result["model"] == XceptionPairEmotion.name
    assert result["accuracy"] >= 0.69  # 0.696 measured; the mini alone 0.659, the big 0.668


@pytest.mark.slow
def test_net_with_the_big_xception_beats_the_net_on_fer2013_privatetest():
    result = evaluate_emotion(need(DATA / "fer2013_privatetest" / "test"), model=NetBigXceptionEmotion.name)
    assert result["n"] == 3589
    assert result["accuracy"] >= 0.71  # 0.7155 measured (weights/emotion_net.md); the net alone 0.7033
