"""Taste profiles: a customer's likes and dislikes folded into one decaying sparse vector.

A profile lives in the raw aspect space of :meth:`adlens.products.types.Aspects.vector`
(``{"token:sneakers": 0.41, "colour:red": 0.2, "token:sandals": -0.1, ...}``); the
catalogue's block and IDF weights are applied only when it is scored
(:meth:`adlens.products.vectors.AspectIndex.encode`), so a profile stays valid when
the catalogue changes.

Each answer adds the product's L2-normalised vector, times +1 for a like and
``-dislike_weight`` for a dislike, after decaying what was there by
``0.5 ** (age_days / half_life_days)``: what a customer liked a half-life ago counts half
as much as what they like today. Everything here is a pure function.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from adlens.errors import InvalidInputError
from adlens.products.types import DISLIKE, LIKE, Feedback
from adlens.settings import get_settings

#: Weights smaller than this are dropped: after ~20 half-lives an old taste is forgotten.
MIN_WEIGHT = 1e-6
#: The most aspects a profile keeps (by |weight|), so it stays small as JSON.
MAX_ASPECTS = 500
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Profile:
    """A customer's taste: aspect key → weight, when it was last updated and how many answers it holds."""

    weights: dict[str, float] = field(default_factory=dict)
    updated_at: datetime | None = None
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``updated_at`` as ISO 8601)."""
        return {
            "weights": dict(self.weights),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "count": self.count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Rebuild from :meth:`to_dict`."""
        at = data.get("updated_at")
        return cls(
            {str(k): float(v) for k, v in (data.get("weights") or {}).items()},
            _utc(datetime.fromisoformat(at)) if at else None,
            int(data.get("count") or 0),
        )


def _utc(at: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so naive and aware timestamps can be compared."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


def decay_factor(age_days: float, half_life_days: float) -> float:
    """``0.5 ** (age_days / half_life_days)``: how much a weight ``age_days`` old still counts."""
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


def _normalised(vector: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {k: w / norm for k, w in vector.items() if w} if norm > 0 else {}


def _prune(weights: dict[str, float], max_aspects: int) -> dict[str, float]:
    kept = {k: w for k, w in weights.items() if abs(w) >= MIN_WEIGHT}
    if len(kept) > max_aspects:
        # newest keys come last in the dict: reversed, they win ties (a fresh answer is never a no-op)
        kept = dict(heapq.nlargest(max_aspects, reversed(kept.items()), key=lambda item: abs(item[1])))
    return kept


def _knobs(half_life_days: float | None, dislike_weight: float | None) -> tuple[float, float]:
    if half_life_days is None or dislike_weight is None:
        settings = get_settings()
        half_life_days = settings.profile_half_life_days if half_life_days is None else half_life_days
        dislike_weight = settings.dislike_weight if dislike_weight is None else dislike_weight
    if not half_life_days > 0 or dislike_weight < 0:
        raise InvalidInputError(
            f"half-life must be > 0 days and dislike weight >= 0 (got {half_life_days}, {dislike_weight})"
        )
    return float(half_life_days), float(dislike_weight)


def update(
    profile: Profile,
    product_vector: Mapping[str, float],
    value: int,
    at: datetime,
    half_life_days: float | None = None,
    dislike_weight: float | None = None,
    max_aspects: int = MAX_ASPECTS,
) -> Profile:
    """The profile after one more answer (``value`` +1 like, -1 dislike) about a product at time ``at``.

    The existing weights are decayed to ``at`` first, then the product's L2-normalised
    vector is added (times 1 for a like, ``-dislike_weight`` for a dislike). An answer
    older than ``updated_at`` (arriving out of order) is decayed itself instead, so the
    result does not depend on arrival order. Weights below :data:`MIN_WEIGHT` are
    dropped and only the :data:`MAX_ASPECTS` largest by magnitude kept. ``None`` knobs
    come from the settings.
    """
    if value not in (LIKE, DISLIKE):
        raise InvalidInputError(f"feedback value must be +1 (like) or -1 (dislike), not {value!r}")
    half_life_days, dislike_weight = _knobs(half_life_days, dislike_weight)
    at = _utc(at)
    strength = 1.0 if value == LIKE else -dislike_weight
    weights = dict(profile.weights)
    updated_at = at
    if profile.updated_at is not None:
        age_days = (at - _utc(profile.updated_at)).total_seconds() / _SECONDS_PER_DAY
        if age_days >= 0:
            factor = decay_factor(age_days, half_life_days)
            weights = {k: w * factor for k, w in weights.items()}
        else:  # an older answer: the profile stays at its time, the answer is aged to it
            strength *= decay_factor(-age_days, half_life_days)
            updated_at = _utc(profile.updated_at)
    for key, weight in _normalised(product_vector).items():
        weights[key] = weights.get(key, 0.0) + strength * weight
    return Profile(_prune(weights, max_aspects), updated_at, profile.count + 1)


def build(
    events: Iterable[Feedback],
    vectors_by_product: Mapping[str, Mapping[str, float]],
    half_life_days: float | None = None,
    dislike_weight: float | None = None,
    max_aspects: int = MAX_ASPECTS,
) -> Profile:
    """A profile from scratch: :func:`update` folded over ``events`` in time order.

    Answers about products missing from ``vectors_by_product`` (deleted since) are
    skipped and not counted. Equal timestamps keep their given order.
    """
    half_life_days, dislike_weight = _knobs(half_life_days, dislike_weight)
    profile = Profile()
    for event in sorted(events, key=lambda e: _utc(e.at)):
        vector = vectors_by_product.get(event.product)
        if vector is not None:
            profile = update(profile, vector, event.value, event.at, half_life_days, dislike_weight, max_aspects)
    return profile


def is_cold(weights: Mapping[str, float]) -> bool:
    """Does a profile say nothing about what the customer likes (empty, or no positive weight)?"""
    return not any(w > 0 for w in weights.values())
