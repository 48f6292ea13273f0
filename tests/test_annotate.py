from __future__ import annotations

import numpy as np

from adlens.annotate import annotate, face_labels
from adlens.faces import Faces


def labelled_faces() -> Faces:
    emotion = np.zeros((1, 7), np.float32)
    emotion[0, 3] = 0.9
    emotion[0, 6] = 0.1
    return Faces(
        np.array([[40, 40, 60, 60]]), np.array([0.9]), np.full((1, 5, 2), 60.0),
        data={"emotion": emotion, "age": np.array([31.0]), "gender": np.array(["female"], dtype=object),
              "gender_confidence": np.array([0.96]), "eyewear": np.array([0.25])},
    )


def test_labels_show_percentages_age_and_gender():
    lines = face_labels(labelled_faces(), 0)
    assert lines[0].startswith("happy 90%  neutral 10%")
    assert lines[1] == "age 31 (25-34)"
    assert lines[2] == "female 96%"
    assert lines[3] == "eyewear 25%"


def test_annotate_draws_on_a_copy():
    image = np.zeros((200, 300, 3), np.uint8)
    drawn = annotate(image, labelled_faces(), title="Sunglasses")
    assert drawn.shape == image.shape and image.sum() == 0 and drawn.sum() > 0


def test_annotate_without_faces_is_unchanged():
    image = np.full((50, 50, 3), 7, np.uint8)
    np.testing.assert_array_equal(annotate(image, Faces.empty()), image)


def test_labels_of_neighbouring_faces_do_not_overlap():
    from adlens.annotate import _block_size, _free_spot

    taken = [(100, 100, 200, 200), (210, 100, 310, 200)]
    w, h, _ = _block_size(["happy 90%  neutral 10%", "age 31 (25-34)"], 0.5, 1)
    first = _free_spot([(100, 205), (100, 100 - h - 5)], w, h, taken, 600, 400)
    taken.append((first[0], first[1], first[0] + w, first[1] + h))
    second = _free_spot([(210, 205), (210, 100 - h - 5)], w, h, taken, 600, 400)
    a = (*first, first[0] + w, first[1] + h)
    b = (*second, second[0] + w, second[1] + h)
    assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
