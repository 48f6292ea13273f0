from __future__ import annotations

import numpy as np
import pytest

from adlens.align import CropSpec, crop_faces
from adlens.faces import Faces
from builders import make_faces


def gradient_image(height=300, width=400) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.uint8)


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        (CropSpec(64, pad=0.4, gray=True), (2, 64, 64, 1)),
        (CropSpec(128), (2, 128, 128, 3)),
        (CropSpec(200, template=((0.3, 0.3), (0.7, 0.3), (0.5, 0.5), (0.35, 0.7), (0.65, 0.7))), (2, 200, 200, 3)),
    ],
)
def test_crop_shapes(spec, shape):
    image = gradient_image()
    landmarks = [[20, 20], [40, 20], [30, 30], [22, 40], [38, 40]]
    faces = make_faces([[10, 10, 40, 40], [350, 250, 60, 60]], landmarks=landmarks)
    crops = crop_faces(image, faces, spec)
    assert crops.shape == shape and crops.dtype == np.uint8


def test_crop_at_image_edge_replicates_border():
    image = np.zeros((100, 100, 3), np.uint8)
    image[:, :5] = 255  # white left edge
    faces = make_faces([0, 20, 40, 40], landmarks=[[10, 30], [30, 30], [20, 40], [12, 50], [28, 50]])
    crop = crop_faces(image, faces, CropSpec(64, pad=0.5))[0]
    assert crop[:, 0].mean() > 200, "outside the image, the edge is replicated"


def test_no_faces_no_crops():
    assert crop_faces(gradient_image(), Faces.empty(), CropSpec(64)).shape == (0, 64, 64, 3)
