"""Synthetic inputs shared by the tests: :func:`make_faces` builds every test's `Faces`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from collections.abc import Sequence
from typing import Any

import numpy as np

from adlens.faces import Faces

#: Five frontal landmarks as fractions of a box (the person's right eye first, as in LANDMARK_NAMES).
FRONTAL = ((0.3, 0.35), (0.7, 0.35), (0.5, 0.55), (0.35, 0.75), (0.65, 0.75))
#: Where the nose goes when a face looks away (off the eyes' midline: the head is turned).
TURNED_NOSE_X = 0.85


def row_of_boxes(n: int, side: float = 50.0, gap: float = 10.0) -> np.ndarray:
    """``n`` square ``x, y, w, h`` boxes side by side, ``gap`` pixels apart, from ``(gap, gap)``."""
    return np.array([[gap + (side + gap) * i, gap, side, side] for i in range(n)], np.float32).reshape(n, 4)


def landmarks_in(boxes: Any, looking: bool | Sequence[bool] = True) -> np.ndarray:
    """Five points of a frontal face inside each box; a face not ``looking`` has its nose pushed aside."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    looks = np.broadcast_to(np.asarray(looking, bool), (len(boxes),))
    relative = np.tile(np.array(FRONTAL, np.float32), (len(boxes), 1, 1))
    relative[~looks, 2, 0] = TURNED_NOSE_X
    return boxes[:, None, :2] + relative * boxes[:, None, 2:]


def make_faces(
    boxes: int | Any = 1,
    embeddings: Any | None = None,
    *,
    scores: float | Any = 0.9,
    landmarks: Any | None = None,
    looking: Any = True,
    **columns: Any,
) -> Faces:
    """Synthetic `Faces`: ``boxes`` is a count (a row of 50-px squares) or ``(n, 4)`` ``x, y, w, h``.

    ``embeddings`` is ``(n, d)`` or ``None``; ``scores`` one value for every face or one
    per face. ``landmarks`` defaults to frontal points inside each box (nose aside where
    ``looking`` is false; ``None`` counts as looking); a single ``(5, 2)`` set is repeated
    for every face. ``columns`` become ``data``; a scalar column (``gender="female"``,
    ``hat=0.9``) is repeated for every face. ``looking`` shapes the landmarks only: pass a
    ``looking`` data column through ``Faces.with_columns``.
    """
    if isinstance(boxes, int):
        boxes = row_of_boxes(boxes)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = len(boxes)
    if landmarks is None:
        landmarks = landmarks_in(boxes, True if looking is None else looking)
    points = np.asarray(landmarks, np.float32)
    if points.shape == (5, 2):
        points = np.repeat(points[None], n, axis=0)
    data = {name: _per_face(value, n) for name, value in columns.items()}
    return Faces(boxes, _per_face(scores, n).astype(np.float32), points,
                 None if embeddings is None else np.asarray(embeddings, np.float32), data)


def _per_face(value: Any, n: int) -> np.ndarray:
    return np.full(n, value) if np.ndim(value) == 0 else np.asarray(value)


class FakeDecider:
    """Plays ``ads`` ((id, duration) pairs) in turn and records every call.

    ``calls`` holds, per decision, the audience, ``person_key``, and what ``shown_to``
    said of each ad at that moment.
    """

    def __init__(self, ads=(("a", 100.0), ("b", 100.0)), analyzer=None) -> None:
        self.ads = list(ads)
        self.analyzer = analyzer
        self.calls: list[dict] = []

    def audience(self, faces, frame_size, screen, at=None):
        from adlens.audience import Audience

        return Audience.from_faces(faces, frame_size, screen, at)

    def decide(self, audience, *, source="image", person_key=None, shown_to=None, log=True):
        ad, duration = self.ads[len(self.calls) % len(self.ads)]
        seen = {name: shown_to(name, 24.0) for name, _ in self.ads} if shown_to else {}
        self.calls.append({"audience": audience, "person_key": person_key, "shown": seen, "source": source,
                           "log": log})
        from adlens.decision import CreativeSpec, Decision

        spec = CreativeSpec(image="", duration=duration, caption=f"ad {ad}") if ad else None
        return Decision(uuid.uuid4().hex, audience.at, audience.screen, audience.summary(), ad=ad,
                        creative=f"{ad}-1" if ad else None, creative_spec=spec, reasons=("fake",))


#: A consent expiry far in the future (gallery members).
FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


def tokens(*names: str) -> list[bytes]:
    """Stand-ins for gallery ciphertexts: the store only keeps bytes."""
    return [name.encode() for name in names]
