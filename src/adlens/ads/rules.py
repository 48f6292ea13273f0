"""Which ads may be shown to an audience, and how well each one's targeting fits it.

:func:`evaluate` checks one :class:`~adlens.ads.inventory.Ad` against one
:class:`~adlens.audience.Audience`, in this order, stopping at the first failure:

1. the ad is active;
2. the screen, hours and days it targets include this screen and the screen's local time;
3. exclusions, which always win: an age-restricted ad is never shown when someone
   present may be under ``adult_age`` (or ages are unknown); then the ad's own
   ``exclude`` keys, each on its own (any key matching any face excludes);
4. the daily cap, then the frequency cap of the main viewer;
5. person-level targeting: a face matches when it meets *every* condition; the ad
   is eligible when at least one face matches.

The affinity of an eligible ad is :data:`UNTARGETED` without person-level targeting,
else ``UNTARGETED + (1 - UNTARGETED) × share``, where ``share`` is the attention-weighted
share of faces that match: a matching targeted ad always beats an untargeted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from adlens.audience import Audience
from adlens.ads.inventory import DAYS, Ad, Conditions, UpliftCondition, parse_window
from adlens.columns import ATTRIBUTE_BY_NAME
from adlens.settings import Settings
from adlens.times import utcnow

#: Affinity of an eligible ad without person-level targeting (a targeted match scores above it).
UNTARGETED = 0.3

#: ``shown_to(person_key, ad_id, hours)``: how often that person was shown the ad within ``hours``.
ShownTo = Callable[[str, str, float], int]
#: ``uplift_of(campaign, by, member_id)``: the member's predicted uplift under the campaign (``by="customer"``)
#: or their segment's mean (``by="segment"``); ``None`` when not scored.
UpliftOf = Callable[[str, str, str], float | None]


@dataclass
class RuleContext:
    """What the rules need besides the ad and the audience.

    Attributes:
        now: the moment of the decision (timezone-aware); hours and days use ``now.astimezone()``,
            the local time of the machine serving the screen.
        adult_age: age-restricted ads need every face estimated at least this old.
        impressions_today: ``ad_id → decisions today`` (a mapping or a function) for daily caps.
        shown_to: see :data:`ShownTo`; without it frequency caps are not applied.
        segments: ``member id → segment id`` of the identified members present.
        uplift_of: see :data:`UpliftOf`; without it no face meets an ``uplift`` condition.
        settings: where the attributes' thresholds are (``ADLENS_ATTRIBUTE_THRESHOLD``; default the process's).
    """

    now: datetime = field(default_factory=utcnow)
    adult_age: float = 25.0
    impressions_today: Callable[[str], int] | Mapping[str, int] = field(default_factory=dict)
    shown_to: ShownTo | None = None
    segments: Mapping[str, int | None] = field(default_factory=dict)
    uplift_of: UpliftOf | None = None
    settings: Settings | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("RuleContext.now must be timezone-aware")

    @cached_property
    def local(self) -> datetime:
        """``now`` in the serving machine's local time (computed once: every ad's hours and days read it)."""
        return self.now.astimezone()

    def impressions(self, ad_id: str) -> int:
        """How many times ``ad_id`` was chosen today."""
        counts = self.impressions_today
        return int(counts.get(ad_id, 0) if isinstance(counts, Mapping) else counts(ad_id))


@dataclass(frozen=True)
class Eligibility:
    """Whether an ad may be shown, why (short human reasons), its affinity and the faces it targets."""

    ad_id: str
    eligible: bool
    reasons: list[str]
    affinity: float = 0.0
    matched_faces: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"ad": self.ad_id, "eligible": self.eligible, "reasons": list(self.reasons),
                "affinity": round(self.affinity, 4), "matched_faces": list(self.matched_faces)}


# --- conditions on the screen and the clock --------------------------------------------


def _in_window(window: str, minute: int) -> bool:
    start, end = parse_window(window)
    return start <= minute < end if start < end else minute >= start or minute < end


def _context_miss(targeting: Conditions, screen: str, local: datetime) -> str | None:
    minute, day = local.hour * 60 + local.minute, DAYS[local.weekday()]
    if targeting.screens is not None and screen not in targeting.screens:
        return f"not for screen {screen!r} (screens: {', '.join(targeting.screens)})"
    if targeting.time is not None and not any(_in_window(w, minute) for w in targeting.time):
        return f"outside its hours {', '.join(targeting.time)} (now {local:%H:%M})"
    if targeting.days is not None and day not in targeting.days:
        return f"not shown on {day} (days: {', '.join(targeting.days)})"
    return None


def _context_excluded(exclude: Conditions, screen: str, local: datetime) -> str | None:
    minute, day = local.hour * 60 + local.minute, DAYS[local.weekday()]
    if exclude.screens is not None and screen in exclude.screens:
        return f"excluded: screen {screen}"
    for window in exclude.time or []:
        if _in_window(window, minute):
            return f"excluded: hours {window} (now {local:%H:%M})"
    if exclude.days is not None and day in exclude.days:
        return f"excluded: {day}"
    return None


# --- conditions on people ------------------------------------------------------------


def describe(conditions: Conditions, key: str) -> str:
    """A short text for one person-level key: ``age 18-40``, ``female``, ``happy/surprise``, ``no hat``…"""
    value = getattr(conditions, key)
    if key == "uplift":
        return _describe_uplift(value)
    if key == "age":
        return f"age {value[0]}-{value[1]}"
    if key == "attributes":
        return ", ".join(name if wanted else f"no {name}" for name, wanted in value.items())
    if key == "segments":
        return "segment " + "/".join(map(str, value))
    if key == "members_only":
        return "members"
    return "/".join(value)


def _describe_uplift(rule: UpliftCondition) -> str:
    name = "segment uplift" if rule.by == "segment" else "uplift"
    if rule.max is None:
        bounds = f"≥ {rule.min:g}"
    elif rule.min is None:
        bounds = f"≤ {rule.max:g}"
    else:
        bounds = f"in [{rule.min:g}, {rule.max:g}]"
    return f"{name} {bounds} ({rule.campaign})"


_T = TypeVar("_T")


def _given(value: _T | None, key: str) -> _T:
    """The value of condition ``key``, which :meth:`Conditions.person_keys` listed, so set."""
    if value is None:
        raise ValueError(f"the condition {key!r} is not set")
    return value


def _column(audience: Audience, key: str, conditions: Conditions, context: RuleContext) -> np.ndarray | None:
    """Per face, does it meet ``conditions.key``? ``None`` when no model estimated what it needs."""
    n = len(audience)
    customers = audience.customers or (None,) * n
    if key == "age":
        ages = audience.column("age")
        if ages is None:
            return None
        years = np.floor(np.asarray(ages, dtype=np.float64))
        low, high = _given(conditions.age, key)
        return (years >= low) & (years <= high)
    if key == "gender":
        genders = audience.column("gender")
        return None if genders is None else np.isin(np.asarray(genders).astype(str), _given(conditions.gender, key))
    if key == "emotions":
        dominant = audience.dominant_emotions()
        return None if dominant is None else np.isin(dominant, _given(conditions.emotions, key))
    if key == "attributes":
        found = np.ones(n, dtype=bool)
        for name, wanted in _given(conditions.attributes, key).items():
            column = audience.column(name)
            if column is None:
                return None
            found &= ATTRIBUTE_BY_NAME[name].present(column, context.settings) == wanted
        return found
    if key == "segments":
        # An unidentified face belongs to no segment: anonymity is not missing data.
        segments = _given(conditions.segments, key)
        return np.array([c is not None and context.segments.get(c) in segments for c in customers], dtype=bool)
    if key == "uplift":
        # Likewise an unidentified face, or a member the campaign did not score, has no predicted uplift.
        rule, uplift_of = _given(conditions.uplift, key), context.uplift_of
        values = [None if c is None or uplift_of is None else uplift_of(rule.campaign, rule.by, c) for c in customers]
        return np.array([v is not None and rule.contains(v) for v in values], dtype=bool)
    return np.array([c is not None for c in customers], dtype=bool)  # members_only


def _person_excluded(exclude: Conditions, audience: Audience, context: RuleContext) -> str | None:
    for key in exclude.person_keys():
        found = _column(audience, key, exclude, context)
        if found is None:  # cannot tell that nobody matches: the exclusion wins
            return f"excluded: {describe(exclude, key)} (cannot be verified: not estimated)"
        if found.any():
            return f"excluded: {describe(exclude, key)} ({int(found.sum())} of {len(audience)} faces)"
    return None


def _weighted_share(audience: Audience, matched: np.ndarray) -> float:
    weights = audience.column("attention")
    weights = np.ones(len(audience)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    return float(weights[matched].sum() / total) if total > 0 else float(matched.mean())


# --- the verdict -----------------------------------------------------------------------


def evaluate(ad: Ad, audience: Audience, context: RuleContext, person_key: str | None = None) -> Eligibility:
    """May ``ad`` be shown to ``audience`` now? See the module docstring for the order and the affinity.

    ``person_key`` names the main viewer for the frequency cap when they are not an
    identified member (e.g. a signage track id); an identified member's id wins.
    """
    def no(reason: str) -> Eligibility:
        return Eligibility(ad.id, False, [reason])

    if not ad.active:
        return no("inactive")
    local = context.local
    miss = _context_miss(ad.targeting, audience.screen, local)
    if miss:
        return no(miss)
    if ad.is_age_restricted and audience.minor_possible(context.adult_age):
        why = ", ".join(ad.restricted_by) if ad.restricted_by else "flagged"
        return no(f"a person who may be under {context.adult_age:g} is present (age-restricted: {why})")
    excluded = _context_excluded(ad.exclude, audience.screen, local)
    if excluded is None and len(audience):
        excluded = _person_excluded(ad.exclude, audience, context)
    if excluded:
        return no(excluded)
    if ad.daily_cap is not None and context.impressions(ad.id) >= ad.daily_cap:
        return no(f"daily cap {ad.daily_cap} reached")
    main = audience.main_face()
    person = (audience.customers[main] if main is not None and audience.customers else None) or person_key
    cap = ad.frequency_cap
    if cap is not None and person is not None and context.shown_to is not None \
            and context.shown_to(person, ad.id, cap.hours) >= cap.count:
        return no(f"frequency cap {cap.count} per {cap.hours:g} h reached for the main viewer")

    keys = ad.targeting.person_keys()
    if not keys:
        return Eligibility(ad.id, True, ["targets everyone"], UNTARGETED, list(range(len(audience))))
    wanted = ", ".join(describe(ad.targeting, k) for k in keys)
    if not len(audience):
        return no(f"targets {wanted}: nobody present")
    matched = np.ones(len(audience), dtype=bool)
    unknown = []
    for key in keys:
        found = _column(audience, key, ad.targeting, context)
        if found is None:
            unknown.append(key)
            found = np.zeros(len(audience), dtype=bool)
        matched &= found
    reason = f"targets {wanted}: {int(matched.sum())} of {len(audience)} faces match"
    if unknown:
        reason += f" ({', '.join(unknown)} not estimated)"
    if not matched.any():
        return no(reason)
    affinity = UNTARGETED + (1 - UNTARGETED) * _weighted_share(audience, matched)
    return Eligibility(ad.id, True, [reason], affinity, [int(i) for i in np.flatnonzero(matched)])


def evaluate_all(ads: Iterable[Ad], audience: Audience, context: RuleContext,
                 person_key: str | None = None) -> list[Eligibility]:
    """:func:`evaluate` for each ad, in order."""
    return [evaluate(ad, audience, context, person_key) for ad in ads]
