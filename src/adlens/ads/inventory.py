"""The ad inventory's schema: what an ad is, as pydantic models, strict per key.

An ad has creatives, the products it promotes, targeting and exclusion rules,
priority and caps (see ``docs/ads.md``). :mod:`adlens.ads.loading` reads inventory
files into these models; :mod:`adlens.ads.importer` stores them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from adlens.columns import ATTRIBUTE_NAMES
from adlens.faces import EMOTIONS

DEFAULT_RESTRICTED = ("alcohol", "tobacco", "gambling", "adult-cosmetics")
"""Categories that make an ad age-restricted when an inventory names none."""
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERSON_KEYS = ("age", "gender", "emotions", "attributes", "segments", "members_only", "uplift")
CONTEXT_KEYS = ("screens", "time", "days")
_WINDOW = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


def parse_window(text: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as minutes since midnight ``(start, end)``; end may be 24:00; start > end wraps midnight."""
    found = _WINDOW.match(text.strip()) if isinstance(text, str) else None
    if not found:
        raise ValueError(f"a time window is 'HH:MM-HH:MM', not {text!r}")
    h1, m1, h2, m2 = map(int, found.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} is not a valid time window (hours 00-23, minutes 00-59, end up to 24:00)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"time window {text!r} is empty")
    return start, end


def _as_id(value: Any) -> Any:
    # YAML reads `id: 2024` or `products: [15970]` as numbers: ids are strings.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()
    return value


def _as_window(value: Any) -> Any:
    parse_window(value)
    return value.strip()


Id = Annotated[str, StringConstraints(min_length=1, max_length=128), BeforeValidator(_as_id)]
Window = Annotated[str, BeforeValidator(_as_window)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FrequencyCap(_Strict):
    """At most ``count`` showings to one person within ``hours``."""

    count: int = Field(ge=1)
    hours: float = Field(gt=0, le=24 * 366)


Uplift = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]


class UpliftCondition(_Strict):
    """Predicted uplift under a stored campaign within ``[min, max]`` (either side may be open).

    ``by="customer"`` uses the identified member's own predicted uplift; ``by="segment"``
    the mean predicted uplift of their taste segment's scored customers.
    """

    campaign: Id
    min: Uplift | None = None
    max: Uplift | None = None
    by: Literal["customer", "segment"] = "customer"

    @model_validator(mode="after")
    def _bounded(self) -> UpliftCondition:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (predicted uplift lies in [-1, 1])")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    def contains(self, value: float) -> bool:
        """Is ``value`` within the bounds (inclusive)?"""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Conditions(_Strict):
    """Targeting (every condition must hold for a face) or exclusions (any one excludes)."""

    age: tuple[Annotated[int, Field(ge=0, le=120)], Annotated[int, Field(ge=0, le=120)]] | None = None
    gender: list[Literal["male", "female"]] | None = Field(None, min_length=1)
    emotions: list[Literal[EMOTIONS]] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    attributes: dict[Literal[ATTRIBUTE_NAMES], bool] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    segments: list[int] | None = Field(None, min_length=1)
    members_only: bool = False
    uplift: UpliftCondition | None = None
    screens: list[Id] | None = Field(None, min_length=1)
    time: list[Window] | None = Field(None, min_length=1)
    days: list[Literal[DAYS]] | None = Field(None, min_length=1)  # type: ignore[valid-type]

    @field_validator("age")
    @classmethod
    def _ordered(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"the low age {value[0]} is above the high age {value[1]}")
        return value

    def person_keys(self) -> list[str]:
        """The person-level keys set here (age, gender, emotions, attributes, segments, members_only, uplift)."""
        return [k for k in PERSON_KEYS if getattr(self, k) not in (None, False)]

    def context_keys(self) -> list[str]:
        """The context keys set here (screens, time, days)."""
        return [k for k in CONTEXT_KEYS if getattr(self, k) is not None]


def _check_set_by_adlens(data: Any, info: ValidationInfo, keys: tuple[str, ...]) -> Any:
    if isinstance(data, dict) and (info.context or {}).get("from_file"):
        for key in keys:
            if key in data:
                raise ValueError(f"'{key}' is set by adlens at import; remove it from the file")
    return data


class Creative(_Strict):
    """One picture of an ad; ``model_face`` is a photo of the face it shows, for look-alike choice."""

    id: Id
    image: str = Field(min_length=1, max_length=1024)
    model_face: str | None = Field(None, min_length=1, max_length=1024)
    duration: float | None = Field(None, gt=0, le=3600)
    caption: str | None = Field(None, max_length=1000)
    face_sha256: str | None = Field(None, description="Set at import: sha256 of the model-face photo.")

    @model_validator(mode="before")
    @classmethod
    def _not_in_file(cls, data: Any, info: ValidationInfo) -> Any:
        return _check_set_by_adlens(data, info, ("face_sha256",))

    @property
    def has_face(self) -> bool:
        """Does the creative carry a model face (whose embedding is stored)?"""
        return self.face_sha256 is not None


class Ad(_Strict):
    """An ad: creatives, promoted products, targeting, exclusions, priority and caps."""

    id: Id
    name: str = Field("", max_length=512)
    products: list[Id] = []
    categories: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]] = []
    age_restricted: bool = False
    mood: str | None = None
    priority: int = Field(0, ge=0, le=10)
    daily_cap: int | None = Field(None, ge=1)
    frequency_cap: FrequencyCap | None = None
    active: bool = True
    targeting: Conditions = Conditions()
    exclude: Conditions = Conditions()
    creatives: list[Creative] = Field(min_length=1)
    restricted_by: list[str] = Field([], description="Set at import: the restricted categories among categories.")

    @model_validator(mode="before")
    @classmethod
    def _not_in_file(cls, data: Any, info: ValidationInfo) -> Any:
        return _check_set_by_adlens(data, info, ("restricted_by",))

    @field_validator("mood")
    @classmethod
    def _known_mood(cls, value: str | None, info: ValidationInfo) -> str | None:
        moods = (info.context or {}).get("moods")
        if value is not None and moods is not None and value not in moods:
            raise ValueError(f"unknown mood {value!r}; the emotion-fit table knows {', '.join(moods)}")
        return value

    @field_validator("creatives")
    @classmethod
    def _unique(cls, creatives: list[Creative]) -> list[Creative]:
        repeated = sorted(cid for cid, n in Counter(c.id for c in creatives).items() if n > 1)
        if repeated:
            raise ValueError(f"duplicate creative id {', '.join(map(repr, repeated))}")
        return creatives

    @model_validator(mode="after")
    def _restricted(self, info: ValidationInfo) -> Ad:
        restricted = (info.context or {}).get("restricted_categories")
        if restricted is not None:
            wanted = {c.lower() for c in restricted}
            object.__setattr__(self, "restricted_by", [c for c in self.categories if c.lower() in wanted])
        return self

    @property
    def is_age_restricted(self) -> bool:
        """Flagged ``age_restricted``, or in a restricted category."""
        return self.age_restricted or bool(self.restricted_by)

    def spec(self) -> dict[str, Any]:
        """The ad's fields as JSON-ready data, without its creatives (what the store keeps per ad)."""
        return self.model_dump(mode="json", exclude={"creatives"})

    def to_json(self) -> dict[str, Any]:
        """The ad as JSON-ready data, each creative with ``has_face``, and ``age_restricted`` as applied."""
        data = self.model_dump(mode="json")
        for creative, entry in zip(self.creatives, data["creatives"], strict=True):
            entry["has_face"] = creative.has_face
        data["age_restricted"] = self.is_age_restricted
        return data


def validate_ad(data: Any, *, moods: Iterable[str] | None = None,
                restricted_categories: Iterable[str] | None = None, from_file: bool = False) -> Ad:
    """An :class:`Ad` from plain data; raises pydantic's ``ValidationError`` (see :func:`format_errors`)."""
    context = {"moods": None if moods is None else tuple(moods), "from_file": from_file,
               "restricted_categories": None if restricted_categories is None else tuple(restricted_categories)}
    return Ad.model_validate(data, context=context)
