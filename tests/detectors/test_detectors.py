from __future__ import annotations

import cv2
import numpy as np
import pytest

from adlens.detectors import DETECTORS, create_detector
from adlens.errors import InvalidImageError, UnknownNameError
from adlens.imageio import load_image


@pytest.fixture(scope="module", params=sorted(DETECTORS))
def detector(request, faces_small):
    return create_detector(request.param).load()


def test_factory_refuses_unknown_names():
    with pytest.raises(UnknownNameError, match="yunet"):
        create_detector("retinaface")


def test_factory_default_is_yunet():
    assert create_detector().name == "yunet"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("obama-240p.jpg", 1),
        ("obama-1080p.jpg", 1),
        ("two_people.jpg", 2),
        ("test/obama_and_biden.jpg", 3),
        ("test/kit_with_rose.jpg", 2),
        ("32bit.png", 1),
    ],
)
def test_counts_faces(detector, faces_small, name, expected):
    image = load_image(faces_small / name)
    faces = detector.detect(image)
    assert len(faces) == expected
    height, width = image.shape[:2]
    x, y, w, h = faces.boxes.T
    assert np.all(x >= 0) and np.all(y >= 0) and np.all(x + w <= width + 0.5) and np.all(y + h <= height + 0.5)
    assert np.all(np.diff(faces.areas) <= 0), "largest first"
    # eyes above the mouth, inside the box
    assert np.all(faces.landmarks[:, :2, 1].mean(axis=1) < faces.landmarks[:, 3:, 1].mean(axis=1))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1, 1, 3), np.uint8),
        np.full((480, 640, 3), 127, np.uint8),
        np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8),
    ],
    ids=["1x1", "flat", "noise"],
)
def test_no_face(detector, image):
    assert len(detector.detect(image)) == 0


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), "x.jpg"])
def test_refuses_non_bgr_input(bad):
    with pytest.raises(InvalidImageError):
        create_detector("yunet").detect(bad)


def test_yunet_large_image_boxes_in_original_pixels(faces_small):
    image = load_image(faces_small / "obama-480p.jpg")
    big = cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
    detector = create_detector("yunet").load()
    small_box = detector.detect(image).boxes[0]
    big_box = detector.detect(big).boxes[0]
    np.testing.assert_allclose(big_box / 4, small_box, atol=6)
