"""What the rules need from the store for one decision: today's impressions, caps, segments and uplift.

Counts are read lazily (an ad's impressions only when its daily cap is checked) and at
most once per decision; predicted uplift costs one query per campaign, and only when an
``uplift`` rule asks and members are present.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from adlens.ads.rules import RuleContext, UpliftOf
from adlens.audience import Audience
from adlens.decision.cache import StoreCache
from adlens.events import DECISION
from adlens.settings import Settings

if TYPE_CHECKING:
    from adlens.store import Store


def rule_context(store: Store, cache: StoreCache, audience: Audience, member: str | None, settings: Settings,
                 shown_to: Callable[[str, float], int] | None = None,
                 pending: Callable[[str, str | None], int] | None = None) -> RuleContext:
    """The :class:`~adlens.ads.rules.RuleContext` of a decision for ``audience``.

    ``member`` is the identified main viewer, whose own decisions count for per-person
    caps; otherwise ``shown_to(ad_id, hours)`` says how often the person in front saw the ad.
    ``pending(ad_id, customer_id)`` counts decisions made but not yet in the store
    (:meth:`~adlens.decision.journal.Journal.pending`): they count for caps too. It is read
    before the store, so a decision committed in between is counted twice, never missed.
    """
    now = audience.at
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    counted: dict[str, int] = {}
    unwritten = pending or (lambda _ad_id, _customer_id: 0)

    def impressions_today(ad_id: str) -> int:
        if ad_id not in counted:
            waiting = unwritten(ad_id, None)
            counted[ad_id] = waiting + store.count_events(DECISION, since=midnight, ad_id=ad_id)
        return counted[ad_id]

    def person_shown(person: str, ad_id: str, hours: float) -> int:
        if member is not None:  # then ``person`` is the member: count their own decisions
            waiting = unwritten(ad_id, person)
            return waiting + int(store.count_events(DECISION, since=now - timedelta(hours=hours), ad_id=ad_id,
                                                    customer_id=person))
        return shown_to(ad_id, hours) if shown_to is not None else 0

    segments = {m: store.get_customer(m).segment_id for m in audience.members}
    return RuleContext(now=now, adult_age=settings.adult_age, impressions_today=impressions_today, shown_to=person_shown,
                       segments=segments, settings=settings,
                       uplift_of=_uplift_of(store, cache, audience.members, segments) if audience.members else None)


def _uplift_of(store: Store, cache: StoreCache, members: list[str], segments: dict[str, int | None]) -> UpliftOf:
    """The members' predicted uplift, read when an ``uplift`` rule first asks: one query per campaign."""
    scores: dict[str, dict[str, float]] = {}

    def uplift_of(campaign: str, by: str, member: str) -> float | None:
        if by == "segment":
            segment = segments.get(member)
            return None if segment is None else cache.segment_uplift(campaign).get(segment)
        if campaign not in scores:
            scores[campaign] = store.uplift_scores(campaign, members)
        return scores[campaign].get(member)

    return uplift_of
