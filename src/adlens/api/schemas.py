"""Request bodies of the API (pydantic), and the audience JSON → :class:`~adlens.faces.Faces` bridge.

Audience JSON lets a screen that analyses its camera itself (or a test, or a
benchmark) ask for a decision without sending a picture: the faces are the records
``/v1/analyze`` returns. Only ``box`` is required; a column (age, emotion…) is used
when every face has it. Without landmarks a face counts as looking at the screen.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from adlens.columns import ATTRIBUTE_NAMES
from adlens.faces import EMOTIONS, Faces
from adlens.times import check_time

#: Faces accepted in one audience (a crowd larger than this is not one screen's audience).
MAX_FACES = 100
#: A frontal face's five landmarks as fractions of its box (eyes, nose, mouth corners).
FRONTAL = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.575], [0.35, 0.75], [0.65, 0.75]], dtype=np.float32)

#: Every printable character (no NUL or other control character: PostgreSQL refuses NUL, logs must stay one line).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
#: Text that may run over lines (a consent text) but holds no NUL, which PostgreSQL cannot store.
NO_NUL = r"^[^\x00]*$"
#: The longest id (of a screen, customer, product, ad, creative, decision, campaign) the API accepts.
MAX_ID = 128
#: Pixel coordinates and sizes are within a frame at most this wide (as :class:`FrameSize`).
MAX_PIXELS_SIDE = 100_000

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Identifier = Annotated[str, Field(min_length=1, max_length=MAX_ID, pattern=PRINTABLE)]
Coordinate = Annotated[float, Field(ge=-MAX_PIXELS_SIDE, le=2 * MAX_PIXELS_SIDE, allow_inf_nan=False)]
Extent = Annotated[float, Field(gt=0, le=MAX_PIXELS_SIDE, allow_inf_nan=False)]

#: An id in a route's path (``/v1/ads/{ad_id}``), bounded and printable like :data:`Identifier`.
PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID, pattern=PRINTABLE)]
#: A page's offset in a list (beyond any table adlens keeps, within every database's integers).
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware datetime: UTC when it named no zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class FrameSize(BaseModel):
    """The camera frame's size in pixels."""

    model_config = ConfigDict(extra="forbid")
    width: int = Field(gt=0, le=100_000)
    height: int = Field(gt=0, le=100_000)


class _FaceFields(BaseModel):
    """A face's geometry, emotion, age and gender; :class:`FaceIn` adds the binary attributes."""

    model_config = ConfigDict(extra="ignore")
    box: tuple[Coordinate, Coordinate, Extent, Extent] = Field(description="x, y, width, height in pixels.")
    score: Probability = 1.0
    landmarks: list[tuple[Coordinate, Coordinate]] | None = Field(
        default=None, min_length=5, max_length=5, description="Right eye, left eye, nose, mouth right, mouth left.")
    emotion: dict[str, Probability] | None = Field(default=None, description="Probability per emotion.")
    age: float | None = Field(default=None, ge=0, le=120, allow_inf_nan=False)
    gender: Literal["male", "female"] | None = None
    gender_confidence: Probability | None = None

    @field_validator("emotion")
    @classmethod
    def _emotion(cls, emotion: dict[str, float] | None) -> dict[str, float] | None:
        if emotion is None:
            return None
        unknown = sorted(set(emotion) - set(EMOTIONS))
        if unknown:
            raise ValueError(f"unknown emotions {unknown}: use {', '.join(EMOTIONS)}")
        if sum(emotion.values()) <= 0:
            raise ValueError("emotion probabilities must not all be 0")
        return emotion


# The binary attributes come from their declaration (adlens.columns), each a probability the face may lack.
_ATTRIBUTE_FIELDS: dict[str, Any] = {name: (Probability | None, None) for name in ATTRIBUTE_NAMES}
_FaceColumns = create_model("_FaceColumns", __base__=_FaceFields, **_ATTRIBUTE_FIELDS)


class FaceIn(_FaceColumns):
    """One face as ``/v1/analyze`` describes it; only ``box`` is required."""


class AudienceIn(BaseModel):
    """Who is in front of a screen, as a screen that analysed its own camera reports it."""

    model_config = ConfigDict(extra="forbid")
    screen: Identifier | None = Field(default=None, description="Screen id (default: ADLENS_SCREEN).")
    at: datetime | None = Field(default=None, description="When (ISO 8601; UTC when no zone); default now. From "
                                "2000 to ADLENS_MAX_CLOCK_SKEW seconds ahead of the server's clock (else 422).")
    frame: FrameSize | None = Field(default=None, description="Camera frame size; default 640×480 or the faces' extent.")
    faces: list[FaceIn] = Field(max_length=MAX_FACES, description="The faces seen; [] when nobody is there.")

    @field_validator("at")
    @classmethod
    def _in_range(cls, at: datetime | None) -> datetime | None:
        # InvalidTimeError is no ValueError: pydantic lets it through, and the API answers 422 invalid_time.
        return None if at is None else check_time(at, "at")

    @model_validator(mode="after")
    def _whole_columns(self) -> AudienceIn:
        for name in ("emotion", "age", "gender", *ATTRIBUTE_NAMES):
            given = sum(getattr(face, name) is not None for face in self.faces)
            if 0 < given < len(self.faces):
                raise ValueError(f"{name} is given for {given} of {len(self.faces)} faces: give it for all or none")
        return self

    def moment(self) -> datetime | None:
        """``at`` as an aware datetime (UTC when it named no zone)."""
        return as_utc(self.at)

    def frame_size(self) -> tuple[int, int]:
        """The frame size given, else one that holds every face (at least 640×480)."""
        if self.frame is not None:
            return self.frame.width, self.frame.height
        right = max((f.box[0] + f.box[2] for f in self.faces), default=0.0)
        bottom = max((f.box[1] + f.box[3] for f in self.faces), default=0.0)
        return max(640, math.ceil(right)), max(480, math.ceil(bottom))

    def to_faces(self) -> Faces:
        """The faces as a :class:`~adlens.faces.Faces` with every column all faces have."""
        if not self.faces:
            return Faces.empty()
        boxes = np.array([f.box for f in self.faces], dtype=np.float32)
        landmarks = np.stack([
            np.array(f.landmarks, dtype=np.float32) if f.landmarks is not None
            else boxes[i, :2] + FRONTAL * boxes[i, 2:] for i, f in enumerate(self.faces)])
        data: dict[str, np.ndarray] = {}
        first = self.faces[0]
        if first.emotion is not None:
            table = np.array([[f.emotion.get(e, 0.0) for e in EMOTIONS] for f in self.faces if f.emotion],
                             dtype=np.float32)
            data["emotion"] = table / table.sum(axis=1, keepdims=True)
        if first.age is not None:
            data["age"] = np.array([f.age for f in self.faces], dtype=np.float32)
        if first.gender is not None:
            data["gender"] = np.array([f.gender for f in self.faces])
            data["gender_confidence"] = np.array([f.gender_confidence or 1.0 for f in self.faces], dtype=np.float32)
        for name in ATTRIBUTE_NAMES:
            if getattr(first, name) is not None:
                data[name] = np.array([getattr(f, name) for f in self.faces], dtype=np.float32)
        return Faces(boxes=boxes, scores=np.array([f.score for f in self.faces], dtype=np.float32),
                     landmarks=landmarks, data=data)


class RewardIn(BaseModel):
    """How a decision went."""

    model_config = ConfigDict(extra="forbid")
    decision_id: Identifier
    value: float = Field(ge=0, le=1e6, allow_inf_nan=False,
                         description="Dwell in seconds, or 1/0 for a click or a purchase.")
    kind: Literal["dwell", "click", "purchase"] = "dwell"


class FeedbackIn(BaseModel):
    """A customer's like or dislike of a product."""

    model_config = ConfigDict(extra="forbid")
    customer: Identifier
    product: Identifier
    feedback: Literal["like", "dislike"]
    at: datetime | None = Field(default=None, description="When (ISO 8601; UTC when no zone); default now. From "
                                "2000 to ADLENS_MAX_CLOCK_SKEW seconds ahead of the server's clock (else 422).")
    create_customer: bool = False


class SegmentsIn(BaseModel):
    """How many segments to make (``None``: chosen by silhouette)."""

    model_config = ConfigDict(extra="forbid")
    k: int | None = Field(default=None, ge=2, le=50)
