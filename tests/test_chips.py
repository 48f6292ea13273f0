"""The identity chips: dlib's own landmarks and chips, from any detector's boxes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from adlens.chips import HOG_BOX_FITS, FaceAligner, hog_rectangles
from adlens.detectors import create_detector
from adlens.errors import UnknownNameError
from adlens.faces import Faces
from adlens.registry import resolve


@pytest.fixture(scope="module")
def aligner() -> FaceAligner:
    return FaceAligner(detector="yunet").load()


@pytest.fixture(scope="module")
def photo(faces_small):
    """Three faces of one real photo, as YuNet finds them."""
    image = cv2.imread(str(faces_small / "test" / "obama_and_biden.jpg"))
    return image, create_detector("yunet").detect(image)


def dlib_chips(image: np.ndarray, faces: Faces, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """What face_recognition would cut: dlib's predictor and ``get_face_chip`` on the RGB image, one face at a time."""
    import dlib

    predictor = dlib.shape_predictor(str(resolve("dlib-landmarks-5")))
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    chips = []
    for rect in hog_rectangles(faces.boxes, HOG_BOX_FITS["yunet"]).tolist():
        shape = predictor(rgb, dlib.rectangle(*rect))
        chips.append(dlib.get_face_chip(rgb, shape, size=size, padding=padding))
    return np.asarray(chips)


def test_chips_equal_dlibs_on_a_real_photo(aligner, photo):
    image, faces = photo
    chips = aligner.chips(image, faces)
    assert len(faces) == 3 and chips.shape == (3, 150, 150, 3) and chips.dtype == np.uint8
    assert np.abs(chips.astype(int) - dlib_chips(image, faces)).max() <= 1


@pytest.mark.parametrize(("size", "padding"), [(64, 0.2), (32, 0.2)])  # Cydral's age and gender chips
def test_other_sizes_equal_dlibs_and_reuse_the_shapes(aligner, photo, size, padding):
    image, faces = photo
    chips = aligner.chips(image, faces, size, padding)
    assert chips.shape == (3, size, size, 3)
    assert np.abs(chips.astype(int) - dlib_chips(image, faces, size, padding)).max() <= 1
    np.testing.assert_array_equal(aligner.chips(image, faces, size, padding, shapes=aligner.shapes(image, faces)), chips)


def test_batched_equals_one_by_one(aligner, photo):
    image, faces = photo
    batched = aligner.chips(image, faces)
    for i in range(len(faces)):
        np.testing.assert_array_equal(aligner.chips(image, faces[i : i + 1])[0], batched[i])


def test_no_faces_no_chips(aligner, photo):
    assert aligner.chips(photo[0], Faces.empty()).shape == (0, 150, 150, 3)


def test_face_at_the_image_edge(aligner, photo):
    image, faces = photo
    x, y, w, h = faces.boxes[0]
    cut = np.ascontiguousarray(image[:, int(x + w / 3) :])  # the face's left third is outside the picture
    edge = create_detector("yunet").detect(cut)
    assert len(edge) and edge.boxes[:, 0].min() < 5
    chips = aligner.chips(cut, edge)
    assert chips.shape == (len(edge), 150, 150, 3)
    assert np.abs(chips.astype(int) - dlib_chips(cut, edge)).max() <= 1


def test_threads_share_one_aligner(aligner, photo):
    image, faces = photo
    expected = aligner.chips(image, faces)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: aligner.chips(image, faces), range(8)))
    for chips in results:
        np.testing.assert_array_equal(chips, expected)


@pytest.mark.parametrize(
    ("box", "fit", "rectangle"),
    [
        ([10, 20, 100, 101], (0.0, 0.0, 1.0, 1.0), [10, 20, 109, 120]),
        ([0, 0, 100, 120], (-0.05, -0.05, 0.9, 0.75), [0, 9, 89, 98]),
        ([5, 5, 0.2, 0.2], (0.0, 0.0, 1.0, 1.0), [5, 5, 5, 5]),
    ],
)
def test_hog_rectangles(box, fit, rectangle):
    assert hog_rectangles(np.array([box], np.float32), fit).tolist() == [rectangle]


def test_unknown_detector_is_refused():
    with pytest.raises(UnknownNameError, match="no box fit"):
        FaceAligner(detector="mtcnn")


def test_dlib_detector_boxes_give_face_recognitions_chips(faces_small):
    """With dlib's HOG detector the boxes are the rectangles themselves: face_recognition's pipeline exactly."""
    import dlib

    image = cv2.imread(str(faces_small / "train" / "obama" / "obama.jpg"))
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    rects = dlib.get_frontal_face_detector()(rgb, 1)
    predictor = dlib.shape_predictor(str(resolve("dlib-landmarks-5")))
    expected = [dlib.get_face_chip(rgb, predictor(rgb, rect), size=150, padding=0.25) for rect in rects]
    faces = create_detector("dlib").detect(image)
    assert len(faces) == len(rects) == 1
    np.testing.assert_array_equal(FaceAligner(detector="dlib").chips(image, faces), np.asarray(expected))
