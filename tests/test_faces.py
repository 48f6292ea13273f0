"""Tests for adlens.faces: validation, slicing, derived values and JSON export, on synthetic faces."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from adlens.faces import EMOTIONS, Faces, age_bracket
from builders import landmarks_in, make_faces

# --------------------------------------------------------------------------- helpers


def sized(sizes: list[tuple[float, float]], **extra: Any) -> Faces:
    """Faces with boxes of the given ``(w, h)``, placed side by side, scores 0.9, 0.8, …"""
    boxes = np.array([[20.0 * i, 10.0 * i, w, h] for i, (w, h) in enumerate(sizes)], np.float32).reshape(-1, 4)
    return make_faces(boxes, scores=np.linspace(0.9, 0.5, len(sizes)), **extra)


def three_faces() -> Faces:
    """Three faces (areas 100, 400, 225) with embeddings and three data columns."""
    return sized(
        [(10, 10), (20, 20), (15, 15)],
        embeddings=np.arange(3 * 4, dtype=np.float32).reshape(3, 4),
        age=np.array([8.0, 30.0, 70.0]),
        gender=np.array(["female", "male", "female"]),
        emotion=np.eye(7)[[3, 0, 6]],
    )


def good_arrays(n: int = 2) -> dict[str, Any]:
    boxes = np.tile(np.array([[1.0, 2.0, 10.0, 12.0]]), (n, 1))
    return {"boxes": boxes, "scores": np.full(n, 0.9), "landmarks": landmarks_in(boxes)}


def with_value(array: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    array = np.array(array, dtype=np.float64, copy=True)
    array[index] = value
    return array


# --------------------------------------------------------------------------- validation

GOOD = good_arrays()

VALIDATION_CASES = [
    # (overrides of the good (n=2) arguments, expected error message fragment or None)
    ({}, None),
    ({"boxes": GOOD["boxes"].tolist(), "scores": [0.9, 0.8], "landmarks": GOOD["landmarks"].tolist()}, None),
    ({"boxes": with_value(GOOD["boxes"], (0, 0), -5.0)}, None),  # x < 0: face partly outside the image
    ({"boxes": with_value(GOOD["boxes"], (0, 2), 0.0)}, None),  # zero width is allowed
    ({"boxes": GOOD["boxes"][:, :3]}, r"boxes must have shape \(n, 4\)"),
    ({"boxes": GOOD["boxes"][0]}, r"boxes must have shape \(n, 4\)"),
    ({"boxes": GOOD["boxes"][None]}, r"boxes must have shape"),
    ({"scores": GOOD["scores"][:, None]}, r"scores must have shape"),
    ({"landmarks": GOOD["landmarks"][:, :4]}, r"landmarks must have shape \(n, 5, 2\)"),
    ({"landmarks": GOOD["landmarks"].reshape(2, 10)}, r"landmarks must have shape"),
    ({"scores": np.full(3, 0.9)}, r"disagree on the number of faces: boxes 2, scores 3, landmarks 2"),
    ({"landmarks": GOOD["landmarks"][:1]}, r"disagree on the number of faces: boxes 2, scores 2, landmarks 1"),
    ({"boxes": with_value(GOOD["boxes"], (1, 1), np.nan)}, r"boxes holds NaN or infinite"),
    ({"boxes": with_value(GOOD["boxes"], (1, 3), np.inf)}, r"boxes holds NaN or infinite"),
    ({"scores": with_value(GOOD["scores"], (0,), np.nan)}, r"scores holds NaN"),
    ({"landmarks": with_value(GOOD["landmarks"], (1, 4, 0), np.nan)}, r"landmarks holds NaN"),
    ({"boxes": with_value(GOOD["boxes"], (0, 2), -1.0)}, r"non-negative width and height"),
    ({"boxes": with_value(GOOD["boxes"], (1, 3), -0.5)}, r"non-negative width and height"),
    ({"embeddings": np.zeros((3, 8))}, r"embeddings must have shape \(2, d\)"),
    ({"embeddings": np.zeros(2)}, r"embeddings must have shape \(2, d\)"),
    ({"embeddings": np.zeros((2, 8))}, None),
    ({"data": {"age": np.array([1.0, 2.0, 3.0])}}, r"data\['age'\] must have 2 rows"),
    ({"data": {"age": np.array([1.0])}}, r"data\['age'\] must have 2 rows"),
    ({"data": {"age": np.float64(3.0)}}, r"data\['age'\] must have 2 rows"),
    ({"data": {"emotion": np.zeros((3, 7))}}, r"data\['emotion'\] must have 2 rows"),
    ({"data": {"age": [1.0, 2.0], "emotion": np.zeros((2, 7))}}, None),
]


@pytest.mark.parametrize(("overrides", "error"), VALIDATION_CASES)
def test_post_init_validation(overrides: dict[str, Any], error: str | None) -> None:
    kwargs = {**good_arrays(), **overrides}
    if error is None:
        faces = Faces(**kwargs)
        assert len(faces) == 2
        assert faces.boxes.dtype == faces.scores.dtype == faces.landmarks.dtype == np.float32
        assert all(isinstance(column, np.ndarray) for column in faces.data.values())
    else:
        with pytest.raises(ValueError, match=error):
            Faces(**kwargs)


def test_non_numeric_boxes_raise_value_error() -> None:
    with pytest.raises(ValueError):
        Faces([["a", "b", "c", "d"]], [0.5], np.zeros((1, 5, 2)))


# --------------------------------------------------------------------------- construction


def test_empty() -> None:
    faces = Faces.empty()
    assert len(faces) == 0
    assert faces.boxes.shape == (0, 4)
    assert faces.scores.shape == (0,)
    assert faces.landmarks.shape == (0, 5, 2)
    assert faces.embeddings is None
    assert faces.data == {}
    assert list(faces) == []
    assert len(faces.largest()) == 0
    assert len(faces.sorted_by_area()) == 0
    assert len(faces[np.zeros(0, dtype=bool)]) == 0
    assert len(faces[:]) == 0


def test_with_columns_adds_and_replaces_without_touching_the_original() -> None:
    faces = three_faces()
    ages = faces.data["age"].copy()
    out = faces.with_columns(age=np.array([1.0, 2.0, 3.0]), score2=np.array([0.1, 0.2, 0.3]))
    assert out is not faces
    np.testing.assert_array_equal(out.data["age"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out.data["score2"], [0.1, 0.2, 0.3])
    assert set(out.data) == {"age", "gender", "emotion", "score2"}
    np.testing.assert_array_equal(faces.data["age"], ages)
    assert "score2" not in faces.data
    np.testing.assert_array_equal(out.boxes, faces.boxes)
    np.testing.assert_array_equal(out.embeddings, faces.embeddings)


def test_with_columns_checks_the_length() -> None:
    with pytest.raises(ValueError, match=r"data\['age'\] must have 3 rows"):
        three_faces().with_columns(age=np.array([1.0]))


def test_with_embeddings() -> None:
    faces = sized([(10, 10), (20, 20)])
    assert faces.embeddings is None
    out = faces.with_embeddings(np.ones((2, 128), dtype=np.float64))
    assert out.embeddings is not None
    assert out.embeddings.shape == (2, 128)
    assert out.embeddings.dtype == np.float32
    assert faces.embeddings is None
    with pytest.raises(ValueError, match="embeddings must have shape"):
        faces.with_embeddings(np.ones((3, 128)))


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0, 3.25])
def test_scaled(factor: float) -> None:
    faces = three_faces()
    out = faces.scaled(factor)
    np.testing.assert_allclose(out.boxes, faces.boxes * factor, rtol=1e-6)
    np.testing.assert_allclose(out.landmarks, faces.landmarks * factor, rtol=1e-6)
    np.testing.assert_array_equal(out.scores, faces.scores)
    np.testing.assert_array_equal(out.embeddings, faces.embeddings)
    assert set(out.data) == set(faces.data)


def test_scaled_by_negative_factor_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        three_faces().scaled(-1.0)


# --------------------------------------------------------------------------- slicing

# Expected positions (into three_faces()) of each selection, or the error it raises.
INDEX_CASES = [
    (0, [0], None),
    (2, [2], None),
    (-1, [2], None),
    (-3, [0], None),
    (np.int64(1), [1], None),
    (3, None, IndexError),
    (-4, None, IndexError),
    (100, None, IndexError),
    (slice(None), [0, 1, 2], None),
    (slice(1, 3), [1, 2], None),
    (slice(None, None, -1), [2, 1, 0], None),
    (slice(5, 10), [], None),
    (np.array([True, False, True]), [0, 2], None),
    ([False, True, False], [1], None),
    (np.array([False, False, False]), [], None),
    (np.array([True, False]), None, IndexError),
    (np.array([True, False, True, True]), None, IndexError),
    ([True], None, IndexError),
    ([2, 0], [2, 0], None),
    (np.array([1, 1, 0]), [1, 1, 0], None),
    (np.array([-1]), [2], None),
    (np.array([0, 3]), None, IndexError),
]


@pytest.mark.parametrize(("index", "expected", "error"), INDEX_CASES)
def test_getitem(index: Any, expected: list[int] | None, error: type[Exception] | None) -> None:
    faces = three_faces()
    if error is not None:
        with pytest.raises(error):
            faces[index]
        return
    out = faces[index]
    assert isinstance(out, Faces)
    assert len(out) == len(expected)
    np.testing.assert_array_equal(out.boxes, faces.boxes[expected].reshape(-1, 4))
    np.testing.assert_array_equal(out.scores, faces.scores[expected])
    np.testing.assert_array_equal(out.landmarks, faces.landmarks[expected].reshape(-1, 5, 2))
    assert out.embeddings is not None and faces.embeddings is not None
    np.testing.assert_array_equal(out.embeddings, faces.embeddings[expected].reshape(-1, 4))
    for key, column in faces.data.items():
        np.testing.assert_array_equal(out.data[key], column[expected])


def test_getitem_int_keeps_a_2d_shape() -> None:
    one = three_faces()[1]
    assert one.boxes.shape == (1, 4)
    assert one.landmarks.shape == (1, 5, 2)
    assert one.data["emotion"].shape == (1, 7)


def test_getitem_out_of_range_message() -> None:
    with pytest.raises(IndexError, match="face index 5 out of range for 3 faces"):
        three_faces()[5]


def test_getitem_wrong_mask_message() -> None:
    with pytest.raises(IndexError, match=r"boolean mask of shape \(2,\) does not fit 3 faces"):
        three_faces()[np.array([True, True])]


def test_getitem_empty_index_list_selects_nothing() -> None:
    assert len(three_faces()[[]]) == 0


def test_getitem_without_embeddings_keeps_none() -> None:
    faces = sized([(10, 10), (20, 20)])
    assert faces[0].embeddings is None
    assert faces[[1, 0]].embeddings is None


def test_iteration_yields_single_faces_in_order() -> None:
    faces = three_faces()
    items = list(faces)
    assert len(items) == 3
    for i, item in enumerate(items):
        assert isinstance(item, Faces)
        assert len(item) == 1
        np.testing.assert_array_equal(item.boxes[0], faces.boxes[i])
        assert item.data["gender"][0] == faces.data["gender"][i]


# --------------------------------------------------------------------------- derived values

AREA_CASES = [
    # (sizes (w, h), index of the largest, order of sorted_by_area)
    ([(10, 10)], 0, [0]),
    ([(10, 10), (20, 20), (15, 15)], 1, [1, 2, 0]),
    ([(30, 10), (10, 30), (5, 5)], 0, [0, 1, 2]),  # tie: the first wins, order is stable
    ([(1, 1), (2, 2), (3, 3), (4, 4)], 3, [3, 2, 1, 0]),
    ([(0, 50), (1, 1)], 1, [1, 0]),
]


@pytest.mark.parametrize(("sizes", "largest", "order"), AREA_CASES)
def test_largest_and_sorted_by_area(sizes: list[tuple[float, float]], largest: int, order: list[int]) -> None:
    faces = sized(sizes)
    np.testing.assert_allclose(faces.areas, [w * h for w, h in sizes])
    big = faces.largest()
    assert len(big) == 1
    np.testing.assert_array_equal(big.boxes[0], faces.boxes[largest])
    ordered = faces.sorted_by_area()
    np.testing.assert_array_equal(ordered.boxes, faces.boxes[order])
    np.testing.assert_array_equal(ordered.scores, faces.scores[order])


def test_sorted_by_area_moves_data_and_embeddings_along() -> None:
    ordered = three_faces().sorted_by_area()
    np.testing.assert_array_equal(ordered.data["age"], [30.0, 70.0, 8.0])
    assert ordered.embeddings is not None
    np.testing.assert_array_equal(ordered.embeddings[:, 0], [4.0, 8.0, 0.0])


# --------------------------------------------------------------------------- equality


def _changed(faces: Faces, **changes: Any) -> Faces:
    """A copy of ``faces`` with some of its fields replaced."""
    fields = {"boxes": faces.boxes, "scores": faces.scores, "landmarks": faces.landmarks,
              "embeddings": faces.embeddings, "data": faces.data, **changes}
    return Faces(**fields)


EQUALITY_CASES = [
    # (a, b, expected)
    (Faces.empty(), Faces.empty(), True),
    (three_faces(), three_faces(), True),
    (three_faces()[[0]], three_faces()[0], True),
    (three_faces(), three_faces()[[0, 1, 2]], True),
    (sized([(10, 10), (20, 20)]), sized([(10, 10), (20, 20)]), True),
    (three_faces(), three_faces()[[1, 0, 2]], False),
    (three_faces(), three_faces()[:2], False),
    (three_faces(), Faces.empty(), False),
    (three_faces(), _changed(three_faces(), boxes=three_faces().boxes + 1), False),
    (three_faces(), _changed(three_faces(), scores=three_faces().scores / 2), False),
    (three_faces(), _changed(three_faces(), landmarks=three_faces().landmarks + 1), False),
    (three_faces(), _changed(three_faces(), embeddings=None), False),
    (three_faces(), _changed(three_faces(), embeddings=three_faces().embeddings + 1), False),  # type: ignore[operator]
    (three_faces(), three_faces().with_columns(track=np.arange(3)), False),
    (three_faces(), three_faces().with_columns(gender=np.array(["male", "male", "female"])), False),
    (three_faces(), three_faces().with_columns(gender=np.array(["female", "male", "female"], dtype=object)), True),
    (three_faces(), three_faces().with_columns(age=np.array([8.0, 30.0, 71.0])), False),
    (three_faces(), three_faces().with_columns(age=np.array(["8.0", "30.0", "70.0"])), False),
    (three_faces().with_columns(x=np.array([np.nan] * 3)), three_faces().with_columns(x=np.array([np.nan] * 3)), True),
]


@pytest.mark.parametrize(("a", "b", "expected"), EQUALITY_CASES)
def test_equality(a: Faces, b: Faces, expected: bool) -> None:
    assert (a == b) is expected and (b == a) is expected
    assert (a != b) is not expected


@pytest.mark.parametrize("other", [None, 3, "faces", [], {}])
def test_faces_never_equal_other_types(other: Any) -> None:
    assert Faces.empty() != other
    assert (three_faces() == other) is False


def test_faces_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(three_faces())


# --------------------------------------------------------------------------- age_bracket

AGE_CASES = [
    (0, "0-12"),
    (12, "0-12"),
    (12.9, "0-12"),
    (13, "13-17"),
    (17, "13-17"),
    (17.99, "13-17"),
    (18, "18-24"),
    (24, "18-24"),
    (24.96, "18-24"),
    (25, "25-34"),
    (34, "25-34"),
    (35, "35-44"),
    (44, "35-44"),
    (45, "45-54"),
    (54, "45-54"),
    (55, "55-64"),
    (64, "55-64"),
    (64.5, "55-64"),
    (65, "65+"),
    (90, "65+"),
    (150, "65+"),
    (20_000, "65+"),
    (-1, "0-12"),
    (-30.5, "0-12"),
    (np.float32(30.0), "25-34"),
    (np.int64(13), "13-17"),
]


@pytest.mark.parametrize(("age", "expected"), AGE_CASES)
def test_age_bracket(age: float, expected: str) -> None:
    assert age_bracket(age) == expected


def test_emotions_are_the_seven_fer_classes() -> None:
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
