"""The per-face columns of :class:`~adlens.faces.Faces`, declared once.

Each attribute model adds columns to ``Faces.data``; what a column becomes
outside (its JSON fields, its CSV columns, its line in an annotated picture)
is declared here, in :data:`COLUMNS`, and every export derives from that
declaration, as supervision's CSV sink derives its columns from a
``Detections``' data. The binary attributes (eyewear, beard, hat) are declared
in :data:`ATTRIBUTES`: adding one is one entry there. No race or ethnicity
column exists, nor may one be added.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from adlens.faces import EMOTIONS, Faces, age_bracket, age_years
from adlens.settings import Settings, get_settings

#: ``(Faces.data, face index) → text``: a column's part of that face's label line.
Describe = Callable[[Mapping[str, np.ndarray], int], str]


@dataclass(frozen=True)
class Attribute:
    """A binary attribute: a probability per face that something is worn or grown.

    Its ``name`` is at once its ``Faces.data`` key, its JSON key, its CSV column
    and its key in an ad's ``attributes`` targeting.

    Attributes:
        name: the attribute (``"eyewear"``).
        label: what a face at or above the threshold does, for people (``"wears eyewear"``).
        tokens: catalogue tokens of the products proposed to such a face (sunglasses, caps…).
        default_threshold: the probability from which a face counts as having it when no setting
            says otherwise (from the head's model card: calibrated probabilities, few false alarms).
    """

    name: str
    label: str
    tokens: tuple[str, ...]
    default_threshold: float = 0.5

    @property
    def threshold_setting(self) -> str:
        """The :class:`~adlens.settings.Settings` field of this attribute's own threshold (``eyewear_threshold``)."""
        return f"{self.name}_threshold"

    def threshold(self, settings: Settings | None = None) -> float:
        """The probability from which a face counts as having the attribute (``settings`` or the process's):
        its own setting if set, else ``attribute_threshold`` if set, else :attr:`default_threshold`."""
        settings = settings or get_settings()
        for value in (getattr(settings, self.threshold_setting), settings.attribute_threshold):
            if value is not None:
                return float(value)
        return self.default_threshold

    def present(self, probabilities: np.ndarray, settings: Settings | None = None) -> np.ndarray:
        """Per face, does it have the attribute (probability at or above :meth:`threshold`)?"""
        return np.asarray(probabilities, dtype=np.float64) >= self.threshold(settings)


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("eyewear", "wears eyewear", ("sunglasses", "eyewear", "frames", "spectacles", "sunglass")),
    Attribute("beard", "has a beard", ("beard", "shaving", "trimmer", "moustache", "grooming"), 0.5),
    Attribute("hat", "wears a hat", ("caps", "cap", "hats", "hat", "headwear"), 0.5),
)
"""The binary attributes, in the order of the face-attributes head's outputs."""

ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
ATTRIBUTE_BY_NAME: dict[str, Attribute] = {a.name: a for a in ATTRIBUTES}


@dataclass(frozen=True)
class Column:
    """One column of ``Faces.data`` and the forms it takes outside.

    Attributes:
        name: its key in ``Faces.data``.
        to_json: one face's value → its JSON fields, in order.
        csv: the CSV columns it fills, in order (a JSON field holding a mapping fills ``<field>_<key>``).
        line: the label line of an annotated picture it joins (parts of one line are joined by two
            spaces), or ``None`` when it has no text of its own.
        describe: its part of that line, from every column of one face.
    """

    name: str
    to_json: Callable[[Any], dict[str, Any]]
    csv: tuple[str, ...]
    line: str | None = None
    describe: Describe | None = None


def _plain(value: Any) -> Any:
    """A numpy value as plain JSON: arrays as lists, scalars as Python numbers, floats to 4 decimals."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    return round(value, 4) if isinstance(value, float) else value


def _plain_column(name: str) -> Callable[[Any], dict[str, Any]]:
    return lambda value: {name: _plain(value)}


def emotion_shares(distribution: Any) -> dict[str, float]:
    """``{emotion: share}`` of a 7-class distribution, rounded to 4 places: how records, summaries and plays keep it."""
    return {label: round(float(p), 4) for label, p in zip(EMOTIONS, distribution, strict=True)}


def _emotion_json(value: Any) -> dict[str, Any]:
    return {"emotion": emotion_shares(value), "dominant_emotion": EMOTIONS[int(np.argmax(value))]}


def _age_json(value: Any) -> dict[str, Any]:
    # Tenths rounded down, so the number never crosses into the next bracket (24.96 → 24.9, "18-24").
    return {"age": math.floor(float(value) * 10) / 10, "age_bracket": age_bracket(float(value))}


def _top_emotions(data: Mapping[str, np.ndarray], index: int) -> str:
    probabilities = data["emotion"][index]
    return "  ".join(f"{EMOTIONS[k]} {probabilities[k] * 100:.0f}%" for k in np.argsort(-probabilities)[:3])


def _age_text(data: Mapping[str, np.ndarray], index: int) -> str:
    age = float(data["age"][index])
    return f"age {age_years(age)} ({age_bracket(age)})"


def _gender_text(data: Mapping[str, np.ndarray], index: int) -> str:
    confidence = float(data["gender_confidence"][index]) if "gender_confidence" in data else 1.0
    return f"{data['gender'][index]} {confidence * 100:.0f}%"


def _percent(name: str) -> Describe:
    return lambda data, index: f"{name} {float(data[name][index]) * 100:.0f}%"


COLUMNS: tuple[Column, ...] = (
    Column("emotion", _emotion_json, (*(f"emotion_{e}" for e in EMOTIONS), "dominant_emotion"),
           "emotion", _top_emotions),
    Column("age", _age_json, ("age", "age_bracket"), "age", _age_text),
    Column("gender", _plain_column("gender"), ("gender",), "gender", _gender_text),
    Column("gender_confidence", _plain_column("gender_confidence"), ("gender_confidence",)),
    *(Column(a.name, _plain_column(a.name), (a.name,), "attributes", _percent(a.name)) for a in ATTRIBUTES),
)
"""Every declared column, in CSV order; a column not declared here is exported as plain JSON."""

BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}

CSV_FIELDS: tuple[str, ...] = tuple(field for column in COLUMNS for field in column.csv)
"""The CSV columns of one face's attributes, after its geometry."""


def face_records(faces: Faces) -> list[dict[str, Any]]:
    """Plain-JSON records, one per face: geometry, then each column's fields in ``data``'s order.

    Embeddings are never included. A column not in :data:`COLUMNS` is written as its
    plain value (arrays as lists, floats to 4 decimals).
    """
    records = []
    for i in range(len(faces)):
        x, y, w, h = (round(float(v), 1) for v in faces.boxes[i])
        record: dict[str, Any] = {
            "box": [x, y, w, h],
            "score": round(float(faces.scores[i]), 4),
            "landmarks": [[round(float(px), 1), round(float(py), 1)] for px, py in faces.landmarks[i]],
        }
        for key, column in faces.data.items():
            to_json = BY_NAME[key].to_json if key in BY_NAME else _plain_column(key)
            record.update(to_json(column[i]))
        records.append(record)
    return records


def csv_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`CSV_FIELDS` of one face's record (from :func:`face_records`); ``""`` for what it lacks."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}_{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return {field: flat.get(field, "") for field in CSV_FIELDS}


def face_labels(faces: Faces, index: int) -> list[str]:
    """The text lines shown beside face ``index`` in an annotated picture.

    Emotions in %, age with its bracket, gender in %, then eyewear/beard/hat in % on one
    line (each declared column's part), then every other scalar column by name.
    """
    data = faces.data
    lines: dict[str, list[str]] = {}
    for column in COLUMNS:
        if column.name in data and column.line is not None and column.describe is not None:
            lines.setdefault(column.line, []).append(column.describe(data, index))
    texts = ["  ".join(parts) for parts in lines.values()]
    for key in sorted(set(data) - set(BY_NAME)):
        value = data[key][index]
        if np.ndim(value) == 0:
            texts.append(f"{key} {value:.2f}" if isinstance(value, (float, np.floating)) else f"{key} {value}")
    return texts
