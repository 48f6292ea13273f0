"""`Faces`: every face of one image in one vectorised, validated object.

Parallel numpy arrays hold the geometry (boxes, scores, five landmarks,
optional embeddings); ``data`` holds per-face attribute columns that the
attribute models add (emotion distribution, age, gender…). A `Faces` slices
like an array (index, slice, boolean mask, index array) and compares by value;
:mod:`adlens.columns` turns it into JSON and CSV. Detectors create it; every
later stage returns a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""The seven emotion classes, in the column order of ``data["emotion"]``."""

AGE_BRACKETS: tuple[tuple[str, int, int], ...] = (
    ("0-12", 0, 12),
    ("13-17", 13, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 10_000),
)

LANDMARK_NAMES: tuple[str, ...] = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")
"""The five landmarks, in the person's own left/right (the right eye is on the image's left)."""


def age_years(age: float) -> int:
    """Completed years of an estimated age (24.6 → 24): the one value that brackets, targeting and labels use."""
    if not np.isfinite(age):
        raise ValueError(f"age must be a finite number, got {age}")
    return int(np.floor(max(float(age), 0.0)))


def age_bracket(age: float) -> str:
    """The bracket label (``"25-34"``…) an age in years falls into (by its completed years, :func:`age_years`)."""
    years = age_years(age)
    for label, low, high in AGE_BRACKETS:
        if low <= years <= high:
            return label
    return AGE_BRACKETS[-1][0]


def _as_float_array(value: Any, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float32)
    if array.ndim != 1 + len(shape_tail) or array.shape[1:] != shape_tail:
        raise ValueError(f"Faces.{name} must have shape (n, {', '.join(map(str, shape_tail))}), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Faces.{name} holds NaN or infinite values")
    return array


def _same(a: np.ndarray, b: np.ndarray | None) -> bool:
    """Equal shapes and values, strings too; NaN equals NaN (a missing value in both)."""
    if b is None or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.all(a == b))


@dataclass
class Faces:
    """All faces found in one image.

    Attributes:
        boxes: ``(n, 4)`` float32 ``x, y, w, h`` in pixels of the original image.
        scores: ``(n,)`` detection confidences in ``[0, 1]``.
        landmarks: ``(n, 5, 2)`` points in :data:`LANDMARK_NAMES` order.
        embeddings: ``(n, d)`` identity embeddings, or ``None`` when not computed.
        data: per-face columns, each an array whose first axis has length ``n``.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray
    embeddings: np.ndarray | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.boxes = _as_float_array(self.boxes, (4,), "boxes")
        n = len(self.boxes)
        self.scores = _as_float_array(self.scores, (), "scores")
        self.landmarks = _as_float_array(self.landmarks, (5, 2), "landmarks")
        if len(self.scores) != n or len(self.landmarks) != n:
            raise ValueError(
                f"Faces arrays disagree on the number of faces: boxes {n}, "
                f"scores {len(self.scores)}, landmarks {len(self.landmarks)}"
            )
        if np.any(self.boxes[:, 2:] < 0):
            raise ValueError("Faces.boxes must have non-negative width and height")
        if self.embeddings is not None:
            self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
            if self.embeddings.ndim != 2 or len(self.embeddings) != n:
                raise ValueError(f"Faces.embeddings must have shape ({n}, d), got {self.embeddings.shape}")
        columns = {}
        for key, value in dict(self.data).items():
            column = np.asarray(value)
            if column.ndim == 0 or len(column) != n:
                raise ValueError(f"Faces.data[{key!r}] must have {n} rows, got shape {column.shape}")
            columns[key] = column
        self.data = columns

    def __eq__(self, other: object) -> bool:
        """Same faces: equal boxes, scores, landmarks, embeddings (or both ``None``) and data columns."""
        if not isinstance(other, Faces):
            return NotImplemented
        if (self.embeddings is None) != (other.embeddings is None) or self.data.keys() != other.data.keys():
            return False
        pairs: list[tuple[np.ndarray, np.ndarray | None]] = [(self.boxes, other.boxes), (self.scores, other.scores), (self.landmarks, other.landmarks),
                 *((self.data[key], other.data[key]) for key in self.data)]
        if self.embeddings is not None:
            pairs.append((self.embeddings, other.embeddings))
        return all(_same(a, b) for a, b in pairs)

    # A Faces holds mutable arrays: it compares by value, so it cannot be hashed.
    __hash__ = None  # type: ignore[assignment]

    # --- construction ------------------------------------------------------
    @classmethod
    def empty(cls) -> Faces:
        """No faces."""
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))

    def with_columns(self, **columns: np.ndarray) -> Faces:
        """A copy with ``columns`` added to (or replacing those in) ``data``."""
        return Faces(self.boxes, self.scores, self.landmarks, self.embeddings, {**self.data, **columns})

    def with_embeddings(self, embeddings: np.ndarray) -> Faces:
        """A copy carrying ``embeddings`` (one row per face)."""
        return Faces(self.boxes, self.scores, self.landmarks, embeddings, self.data)

    def scaled(self, factor: float) -> Faces:
        """A copy with boxes and landmarks multiplied by ``factor`` (to undo a resize)."""
        return Faces(self.boxes * factor, self.scores, self.landmarks * factor, self.embeddings, self.data)

    # --- container protocol ------------------------------------------------
    def __len__(self) -> int:
        return len(self.boxes)

    def __iter__(self) -> Iterator[Faces]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: int | slice | np.ndarray | list[int] | list[bool]) -> Faces:
        """Select faces by index, slice, boolean mask or index array; always a `Faces`."""
        if isinstance(index, (int, np.integer)):
            position = int(index)
            if not -len(self) <= position < len(self):
                raise IndexError(f"face index {position} out of range for {len(self)} faces")
            index = [position]
        elif not isinstance(index, slice):
            index = np.asarray(index)
            if index.size == 0 and index.dtype != bool:
                index = index.astype(np.intp)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(f"boolean mask of shape {index.shape} does not fit {len(self)} faces")
        return Faces(
            self.boxes[index],
            self.scores[index],
            self.landmarks[index],
            None if self.embeddings is None else self.embeddings[index],
            {key: column[index] for key, column in self.data.items()},
        )

    # --- derived values ----------------------------------------------------
    @property
    def areas(self) -> np.ndarray:
        """Box areas in square pixels."""
        areas: np.ndarray = self.boxes[:, 2] * self.boxes[:, 3]
        return areas

    def largest(self) -> Faces:
        """The single largest face (an empty `Faces` when there is none)."""
        return self if len(self) == 0 else self[int(np.argmax(self.areas))]

    def sorted_by_area(self) -> Faces:
        """Faces from largest to smallest."""
        return self[np.argsort(-self.areas, kind="stable")]
