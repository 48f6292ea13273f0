"""The audience in front of a screen: faces → who, how many, how they feel, who is looking.

:class:`Audience` is the stage between the vision pipeline's :class:`~adlens.faces.Faces`
and the decision engine. It adds per-face *attention* (how frontal the face is, from
the five landmarks) and *distance* (a pinhole estimate from the face's width), keeps
the identified members (members mode only), and offers the two views later stages
need: :meth:`Audience.summary`, the :class:`AudienceSummary` of aggregate numbers safe
to log (what decision and play events keep), and :meth:`Audience.features`, the
fixed-length vector the bandit learns on.
"""

from __future__ import annotations


from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Annotated

import numpy as np
from pydantic import Field

from adlens import columns
from adlens.columns import emotion_shares
from adlens.faces import AGE_BRACKETS, EMOTIONS, Faces, age_bracket
from adlens.payload import Payload
from adlens.settings import Settings
from adlens.times import utcnow

#: Attention at or above this counts a face as a watcher.
WATCHING = 0.5
#: Typical adult face width (m) between the cheeks, which YuNet's box spans.
FACE_WIDTH_M = 0.15
#: Horizontal field of view assumed for an unknown camera (a common webcam's).
FIELD_OF_VIEW_DEG = 60.0
#: Nose offset from the eyes' midline, in eye distances, where attention halves (~30° of yaw).
YAW_HALF = 0.35
#: The nose's usual height between the eyes (0) and the mouth (1) on a frontal face,
#: and the departure from it where attention halves.
NOSE_HEIGHT = 0.5
PITCH_HALF = 0.3

_AGE_GROUPS = (("child", 0, 12), ("teen", 13, 17), ("young_adult", 18, 34), ("adult", 35, 54), ("senior", 55, 200))

FEATURE_NAMES: tuple[str, ...] = (
    "bias", "faces", *(g for g, _, _ in _AGE_GROUPS), "male", "female", *columns.ATTRIBUTE_NAMES,
    *(f"emotion_{e}" for e in EMOTIONS), "attention", "members", "hour_sin", "hour_cos",
)
"""The columns of :meth:`Audience.features`, in order (shares over the faces, except where noted)."""


#: A number of people (faces, watchers…): never negative.
Count = Annotated[int, Field(ge=0)]
#: A share in [0, 1] (of an emotion…).
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class AudienceSummary(Payload):
    """What an audience looked like, in aggregate (no id, no image, no embedding): what events keep.

    Built by :meth:`Audience.summary`; read back from stored events strictly
    (:meth:`~adlens.payload.Payload.from_json`): a missing or mistyped number is refused, never read as 0.
    ``seen`` is false for a screen without a camera: nobody was looked for, so reports
    must not average it in as an empty audience.
    """

    faces: Count
    watchers: Count
    members: Count
    ages: dict[str, Count]
    genders: dict[str, Count]
    emotions: dict[str, Share]
    dominant_emotion: str | None
    attributes: dict[str, Count]
    minor_possible: bool
    seen: bool = True


def _read_only(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only: a value cached on a frozen :class:`Audience` must not change under it."""
    array.flags.writeable = False
    return array


def attention(landmarks: np.ndarray) -> np.ndarray:
    """How squarely each face looks at the camera, in ``[0, 1]`` (1: straight on).

    Head yaw shows as the nose leaving the eyes' midline (relative to the eye
    distance), pitch as the nose leaving its usual height between eyes and mouth.
    Each becomes a Gaussian score that halves at :data:`YAW_HALF` (about 30° of yaw)
    and :data:`PITCH_HALF`; attention is their product.
    """
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2)
    eyes = (points[:, 0] + points[:, 1]) / 2
    mouth = (points[:, 3] + points[:, 4]) / 2
    nose = points[:, 2]
    eye_span = np.maximum(np.linalg.norm(points[:, 1] - points[:, 0], axis=1), 1e-6)
    yaw = (nose[:, 0] - eyes[:, 0]) / eye_span
    height = np.maximum(mouth[:, 1] - eyes[:, 1], 1e-6)
    pitch = (nose[:, 1] - eyes[:, 1]) / height - NOSE_HEIGHT
    score = np.exp(-np.log(2) * ((yaw / YAW_HALF) ** 2 + (pitch / PITCH_HALF) ** 2))
    return np.clip(score, 0.0, 1.0).astype(np.float32)


def distance(boxes: np.ndarray, frame_width: int) -> np.ndarray:
    """Rough distance (m) of each face from the camera, from its box width (pinhole model)."""
    focal = frame_width / (2 * np.tan(np.radians(FIELD_OF_VIEW_DEG) / 2))
    widths = np.maximum(np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[:, 2], 1.0)
    return (focal * FACE_WIDTH_M / widths).astype(np.float32)


@dataclass(frozen=True)
class Audience:
    """Who is in front of one screen at one moment.

    Attributes:
        faces: the faces with their attribute columns plus ``attention`` and ``distance``.
        frame_size: ``(width, height)`` of the frame the faces were found in.
        screen: the screen id.
        at: when (timezone-aware).
        customers: per face, the identified member's id or ``None`` (all ``None`` in anonymous mode).
    """

    faces: Faces
    frame_size: tuple[int, int]
    screen: str
    at: datetime = field(default_factory=utcnow)
    customers: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        if self.customers and len(self.customers) != len(self.faces):
            raise ValueError(f"{len(self.customers)} customer ids for {len(self.faces)} faces")
        if self.at.tzinfo is None:
            raise ValueError("Audience.at must be timezone-aware")

    @classmethod
    def from_faces(
        cls,
        faces: Faces,
        frame_size: tuple[int, int],
        screen: str,
        at: datetime | None = None,
        customers: list[str | None] | tuple[str | None, ...] | None = None,
    ) -> Audience:
        """The audience of one frame; adds the ``attention`` and ``distance`` columns when absent."""
        columns = {}
        if "attention" not in faces.data:
            columns["attention"] = attention(faces.landmarks)
        if "distance" not in faces.data:
            columns["distance"] = distance(faces.boxes, frame_size[0])
        faces = faces.with_columns(**columns) if columns else faces
        ids = tuple(customers) if customers is not None else (None,) * len(faces)
        return cls(faces, (int(frame_size[0]), int(frame_size[1])), screen, at or utcnow(), ids)

    # --- per-face views ------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.faces)

    def column(self, name: str) -> np.ndarray | None:
        """A per-face column of the faces, or ``None`` when no model produced it."""
        return self.faces.data.get(name)

    @property
    def members(self) -> list[str]:
        """The identified members' ids, nearest first, without repeats."""
        return list(self._members)

    @cached_property
    def _members(self) -> tuple[str, ...]:
        if not any(c is not None for c in self.customers):
            return ()
        seen: list[str] = []
        for i in np.argsort(self.faces.data["distance"]):
            customer = self.customers[i]
            if customer is not None and customer not in seen:
                seen.append(customer)
        return tuple(seen)

    # An audience is frozen, so what is derived from its faces is computed once (a decision asks for the
    # watchers and the group emotion many times); the cached arrays are read-only.
    @cached_property
    def watching(self) -> np.ndarray:
        """Boolean per face: is the face turned to the screen? (read-only)"""
        return _read_only(self.faces.data["attention"] >= WATCHING)

    def main_face(self) -> int | None:
        """The index of the nearest watcher (the nearest face when nobody watches), or ``None``."""
        return self._main_face

    @cached_property
    def _main_face(self) -> int | None:
        if not len(self):
            return None
        nearest = np.argsort(self.faces.data["distance"], kind="stable")
        watchers = nearest[self.watching[nearest]]
        return int(watchers[0] if len(watchers) else nearest[0])

    def dominant_emotions(self) -> np.ndarray | None:
        """Per face, the label of its most likely emotion, or ``None`` without emotions (read-only)."""
        return self._dominant_emotions

    @cached_property
    def _dominant_emotions(self) -> np.ndarray | None:
        emotion = self.column("emotion")
        if emotion is None:
            return None
        return _read_only(np.asarray(EMOTIONS)[np.argmax(np.asarray(emotion).reshape(len(self), -1), axis=1)])

    def group_emotion(self) -> np.ndarray | None:
        """The mean emotion distribution, watchers weighted double, or ``None`` without emotions (read-only)."""
        return self._group_emotion

    @cached_property
    def _group_emotion(self) -> np.ndarray | None:
        emotion = self.column("emotion")
        if emotion is None or not len(self):
            return None
        weights = 1.0 + self.watching.astype(np.float64)
        return _read_only((np.asarray(emotion, dtype=np.float64) * weights[:, None]).sum(axis=0) / weights.sum())

    def minor_possible(self, adult_age: float) -> bool:
        """Could anyone present be under age? True when a face looks younger than ``adult_age``,
        or when ages are unknown (no age model): an age-restricted ad must then stay off."""
        if not len(self):
            return False
        ages = self.column("age")
        return ages is None or bool(np.any(np.asarray(ages, dtype=np.float64) < adult_age))

    # --- what is logged and learned on --------------------------------------------
    def summary(self, adult_age: float = 25.0, seen: bool = True, settings: Settings | None = None) -> AudienceSummary:
        """The :class:`AudienceSummary` of this audience; ``seen=False`` for a screen that has no camera.

        ``settings`` hold the attributes' thresholds (default: the process's)."""
        ages, genders = self.column("age"), self.column("gender")
        group = self.group_emotion()
        brackets = {label: 0 for label, _, _ in AGE_BRACKETS}
        for age in ages if ages is not None else []:
            brackets[age_bracket(float(age))] += 1
        return AudienceSummary(
            faces=len(self),
            watchers=int(self.watching.sum()) if len(self) else 0,
            members=len(self.members),
            ages=brackets if ages is not None else {},
            genders={g: int(np.sum(genders == g)) for g in ("male", "female")} if genders is not None else {},
            emotions=emotion_shares(group) if group is not None else {},
            dominant_emotion=EMOTIONS[int(np.argmax(group))] if group is not None else None,
            attributes={a.name: int(np.sum(a.present(column, settings))) for a in columns.ATTRIBUTES
                        if (column := self.column(a.name)) is not None},
            minor_possible=self.minor_possible(adult_age),
            seen=seen,
        )

    def features(self) -> np.ndarray:
        """The :data:`FEATURE_NAMES` vector (float64): shares over faces, time of day as a circle."""
        n = len(self)
        values = dict.fromkeys(FEATURE_NAMES, 0.0)
        values["bias"] = 1.0
        values["faces"] = min(n, 5) / 5.0
        hour = self.at.hour + self.at.minute / 60.0
        values["hour_sin"], values["hour_cos"] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
        if n:  # shares as counts / n: np.mean's overhead dominates on arrays of a few faces
            ages = self.column("age")
            if ages is not None:
                for group, low, high in _AGE_GROUPS:
                    values[group] = int(np.count_nonzero((ages >= low) & (ages < high + 1))) / n
            genders = self.column("gender")
            if genders is not None:
                values["male"] = int(np.count_nonzero(genders == "male")) / n
                values["female"] = int(np.count_nonzero(genders == "female")) / n
            for name in columns.ATTRIBUTE_NAMES:
                probabilities = self.column(name)
                if probabilities is not None:
                    values[name] = float(np.asarray(probabilities, dtype=np.float64).sum()) / n  # = np.mean
            mix = self.group_emotion()
            if mix is not None:
                for emotion, p in zip(EMOTIONS, mix.tolist(), strict=True):
                    values[f"emotion_{emotion}"] = p
            values["attention"] = int(np.count_nonzero(self.watching)) / n
            values["members"] = len(self.members) / n
        return np.array([values[name] for name in FEATURE_NAMES], dtype=np.float64)
