"""Faces followed across frames: ids that persist, smoothed attributes, dwell and attention time.

:class:`Tracker` matches each frame's faces to the tracks it holds with one Hungarian
assignment on a cost that mixes box overlap (1 − IoU) and identity-embedding distance.
Embeddings, when both sides have them, decide: a face that jumps across the frame keeps
its track, and two people crossing keep theirs, while overlapping boxes of two different
people do not merge. Without embeddings the gate is the IoU alone. Each :class:`Track`
smooths what the attribute models say (emotion over a short window, age and the attribute
probabilities as running means, gender by majority vote) so one noisy frame does not
change the audience, and counts the seconds the person was present and looking.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from adlens.audience import WATCHING, attention
from adlens.faces import Faces

#: Weight of a new embedding in a track's moving average (the rest: the track's history).
EMBEDDING_MOMENTUM = 0.3
_BLOCKED = 1e6  # cost of a pair the gates forbid


@dataclass(eq=False)
class Track:
    """One person followed across frames (attributes smoothed, times in seconds of the source)."""

    id: int
    first_seen: float
    last_seen: float
    box: np.ndarray
    landmarks: np.ndarray
    embedding: np.ndarray | None = None
    window: int = 5
    score: float = 0.0
    hits: int = 0
    dwell: float = 0.0
    attention_time: float = 0.0
    attention: float = 0.0
    gap: float = 0.0
    """Seconds credited to :attr:`dwell` at the latest observation (the loop adds them to the playing ad)."""
    gap_looking: float = 0.0
    """Seconds credited to :attr:`attention_time` at the latest observation."""
    watched: bool = False
    emotions: deque = field(default_factory=deque)
    sums: dict[str, list[float]] = field(default_factory=dict)
    votes: dict[str, Counter] = field(default_factory=dict)
    refreshed: float | None = None
    """When the stable attributes (age, gender…) were last computed for this track (``None``: never)."""

    def __post_init__(self) -> None:
        self.emotions = deque(self.emotions, maxlen=self.window)

    @property
    def looking(self) -> bool:
        """Was the face turned to the screen at its latest observation?"""
        return self.attention >= WATCHING

    @property
    def emotion(self) -> np.ndarray | None:
        """The mean emotion distribution of the last ``window`` observations (``None`` without a model)."""
        return np.mean(np.stack(self.emotions), axis=0) if self.emotions else None

    def columns(self) -> dict[str, object]:
        """The smoothed per-face values, keyed like :attr:`Faces.data`."""
        values: dict[str, object] = {name: total / n for name, (total, n) in self.sums.items()}
        values.update({name: votes.most_common(1)[0][0] for name, votes in self.votes.items()})
        if self.emotions:
            values["emotion"] = self.emotion
        return values

    def observe(self, faces: Faces, i: int, t: float) -> None:
        """Take face ``i`` of ``faces``, seen at time ``t``, as this track's newest observation."""
        if self.hits and t > self.last_seen:
            # The person was there since the last sighting (gaps are at most max_age_s).
            # The state of the last sighting holds until this one.
            self.gap = t - self.last_seen
            self.gap_looking = self.gap if self.looking else 0.0
            self.dwell += self.gap
            self.attention_time += self.gap_looking
        else:
            self.gap = self.gap_looking = 0.0
        self.last_seen = t
        self.hits += 1
        self.box, self.landmarks, self.score = faces.boxes[i].copy(), faces.landmarks[i].copy(), float(faces.scores[i])
        self.attention = float(attention(self.landmarks)[0])
        self.watched = self.watched or self.looking
        if faces.embeddings is not None:
            new = faces.embeddings[i].astype(np.float32)
            self.embedding = new if self.embedding is None else (
                (1 - EMBEDDING_MOMENTUM) * self.embedding + EMBEDDING_MOMENTUM * new)
        self.take_columns(faces, i)

    def take_columns(self, faces: Faces, i: int) -> None:
        """Add the attribute values of face ``i`` of ``faces`` to this track's smoothed values (the
        columns a frame lacks keep their history)."""
        for name, column in faces.data.items():
            value = column[i]
            if name == "emotion":
                self.emotions.append(np.asarray(value, dtype=np.float64))
            elif np.ndim(value) == 0 and np.issubdtype(column.dtype, np.number):
                total, n = self.sums.get(name, (0.0, 0))
                self.sums[name] = [total + float(value), n + 1]
            elif np.ndim(value) == 0:
                self.votes.setdefault(name, Counter())[value] += 1


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every ``xywh`` box of ``a`` with every one of ``b``, shape ``(len(a), len(b))``."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y2 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


class Tracker:
    """Follows faces across frames.

    Args:
        iou_threshold: without embeddings, a face continues a track only when their boxes overlap this much.
        max_distance: with embeddings on both sides, a face continues a track only when closer than this
            (the embedder's same-person threshold).
        max_age_s: a track not seen for longer ends.
        window: observations the emotion is averaged over.
    """

    def __init__(self, iou_threshold: float = 0.3, max_distance: float = 0.6, max_age_s: float = 2.0,
                 window: int = 5) -> None:
        self.iou_threshold = iou_threshold
        self.max_distance = max_distance
        self.max_age_s = max_age_s
        self.window = window
        self.tracks: list[Track] = []
        self.matched: list[Track] = []
        """The track each face of the latest :meth:`update` went to, in the faces' order."""
        self.finished: list[Track] = []
        self.count = 0

    def update(self, faces: Faces, t: float) -> list[Track]:
        """Match the faces seen at time ``t`` to the tracks and return the active tracks.

        Tracks unseen for more than ``max_age_s`` end first (they are in :attr:`finished`
        until the next call); each unmatched face starts a new track.
        """
        self.finished = [track for track in self.tracks if t - track.last_seen > self.max_age_s]
        self.tracks = [track for track in self.tracks if t - track.last_seen <= self.max_age_s]
        matched: dict[int, Track] = {}
        if self.tracks and len(faces):
            cost = self._cost(faces)
            for row, col in zip(*linear_sum_assignment(cost), strict=True):
                if cost[row, col] < _BLOCKED:
                    self.tracks[row].observe(faces, int(col), t)
                    matched[int(col)] = self.tracks[row]
        for i in range(len(faces)):
            if i not in matched:
                self.count += 1
                track = Track(self.count, t, t, faces.boxes[i], faces.landmarks[i], window=self.window)
                track.observe(faces, i, t)
                self.tracks.append(track)
                matched[i] = track
        self.matched = [matched[i] for i in range(len(faces))]
        return list(self.tracks)

    def stale(self, t: float, every: float) -> list[int]:
        """The faces of the latest :meth:`update` whose track has no stable attributes (age, gender…)
        yet, or none computed in the last ``every`` seconds."""
        return [i for i, track in enumerate(self.matched) if track.refreshed is None or t - track.refreshed >= every]

    def refresh(self, found: Faces, faces: list[int], t: float) -> None:
        """Add the columns of ``found`` (row j: face ``faces[j]`` of the latest update) to their tracks, as of ``t``."""
        for row, i in enumerate(faces):
            self.matched[i].take_columns(found, row)
            self.matched[i].refreshed = t

    def finish(self) -> list[Track]:
        """End every track (the source is over); returns them."""
        self.finished, self.tracks = self.tracks, []
        return self.finished

    def _cost(self, faces: Faces) -> np.ndarray:
        overlap = iou_matrix(np.stack([track.box for track in self.tracks]), faces.boxes)
        cost = 1.0 - overlap
        allowed = overlap >= self.iou_threshold
        if faces.embeddings is not None:
            for row, track in enumerate(self.tracks):
                if track.embedding is None:
                    continue
                distance = np.linalg.norm(faces.embeddings - track.embedding, axis=1)
                # The embedding overrides the box: same person anywhere, never a different one.
                allowed[row] = distance <= self.max_distance
                cost[row] += distance / self.max_distance
        return np.where(allowed, cost, _BLOCKED)

    def faces(self) -> Faces:
        """The active tracks as one `Faces`, in :attr:`tracks` order, with smoothed data columns.

        A column is kept only when every track has it; embeddings only when every track has one.
        """
        if not self.tracks:
            return Faces.empty()
        rows = [track.columns() for track in self.tracks]
        names = set.intersection(*(set(row) for row in rows))
        data = {name: np.array([row[name] for row in rows]) for name in sorted(names)}
        for name, column in data.items():
            if np.issubdtype(column.dtype, np.floating):
                data[name] = column.astype(np.float32)
        embeddings = [track.embedding for track in self.tracks if track.embedding is not None]
        return Faces(
            np.stack([track.box for track in self.tracks]),
            np.array([track.score for track in self.tracks], dtype=np.float32),
            np.stack([track.landmarks for track in self.tracks]),
            np.stack(embeddings) if len(embeddings) == len(self.tracks) else None,
            data,
        )
