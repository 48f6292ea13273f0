"""The product side's typed records: what a product is, what its photo is about, what a customer said.

Data flows one way: a catalogue row and its photo → :class:`Aspects` (computed once at
import) → a sparse aspect vector per product → a customer's taste profile built from
:class:`Feedback` → ranked recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

#: The kinds of aspect a product has; a sparse aspect key is ``"<kind>:<name>"``.
ASPECT_KINDS = ("concept", "colour", "token")


def aspect_key(kind: str, name: str) -> str:
    """The sparse-vector key of aspect ``name`` of ``kind`` (e.g. ``"colour:red"``)."""
    return f"{kind}:{name}"


def split_key(key: str) -> tuple[str, str]:
    """``"colour:navy blue"`` → ``("colour", "navy blue")``."""
    kind, _, name = key.partition(":")
    return kind, name


@dataclass
class Aspects:
    """What one product is about.

    ``concepts``: ImageNet concepts of the photo → confidence (top-k).
    ``colours``: dominant colour names → share of the product's pixels (background removed).
    ``tokens``: lower-cased words and metadata values (category, colour, usage…) → weight.
    ``embedding``: the photo's 1,024-d visual embedding, L2-normalised (``None`` without a photo).
    """

    concepts: dict[str, float] = field(default_factory=dict)
    colours: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    embedding: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.embedding is not None:
            self.embedding = np.asarray(self.embedding, dtype=np.float32).reshape(-1)

    def vector(self) -> dict[str, float]:
        """The sparse aspect vector: ``{"concept:sandal": 0.8, "colour:red": 0.6, "token:leather": 1.0}``."""
        vector: dict[str, float] = {}
        for kind, weights in (("concept", self.concepts), ("colour", self.colours), ("token", self.tokens)):
            for name, weight in weights.items():
                if weight:
                    vector[aspect_key(kind, name)] = float(weight)
        return vector

    @classmethod
    def from_vector(cls, vector: dict[str, float], embedding: np.ndarray | None = None) -> Aspects:
        """Rebuild from :meth:`vector` (e.g. rows read back from the store)."""
        parts: dict[str, dict[str, float]] = {kind: {} for kind in ASPECT_KINDS}
        for key, weight in vector.items():
            kind, name = split_key(key)
            if kind in parts:
                parts[kind][name] = float(weight)
        return cls(parts["concept"], parts["colour"], parts["token"], embedding)


@dataclass(frozen=True)
class Prediction:
    """A label filled in for an untagged product from its visual neighbours."""

    value: str
    confidence: float


@dataclass
class Product:
    """One catalogue entry with its aspects."""

    id: str
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    image: str | None = None
    image_sha256: str | None = None
    aspects: Aspects = field(default_factory=Aspects)
    predicted: dict[str, Prediction] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def label(self, column: str) -> str | None:
        """The value of metadata ``column``, or its prediction when the product is untagged there."""
        value = self.attributes.get(column)
        if value not in (None, ""):
            return str(value)
        prediction = self.predicted.get(column)
        return prediction.value if prediction else None

    def summary(self) -> dict[str, Any]:
        """Id, name and photo path: a product in a list."""
        return {"id": self.id, "name": self.name, "image": self.image}

    def details(self) -> dict[str, Any]:
        """The product as JSON-ready data: metadata, photo and predicted labels."""
        return self.summary() | {
            "attributes": self.attributes,
            "predicted": {k: {"value": v.value, "confidence": v.confidence} for k, v in self.predicted.items()},
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    def aspects_json(self) -> dict[str, Any]:
        """The product's aspects as JSON-ready data, strongest first."""

        def ranked(weights: dict[str, float]) -> dict[str, float]:
            return {k: round(v, 4) for k, v in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))}

        embedding = self.aspects.embedding
        return {
            "product": self.id,
            "concepts": ranked(self.aspects.concepts),
            "colours": ranked(self.aspects.colours),
            "tokens": ranked(self.aspects.tokens),
            "embedding": None if embedding is None else {
                "dimensions": int(embedding.size), "head": [round(float(x), 4) for x in embedding[:8]],
            },
        }


LIKE, DISLIKE = 1, -1
FEEDBACK_VALUES = {"like": LIKE, "dislike": DISLIKE}


@dataclass(frozen=True)
class Feedback:
    """One answer of a customer about a product: ``value`` is +1 (like) or -1 (dislike)."""

    customer: str
    product: str
    value: int
    at: datetime

    def __post_init__(self) -> None:
        if self.value not in (LIKE, DISLIKE):
            raise ValueError(f"feedback value must be +1 or -1, not {self.value!r}")
