"""The slideshow of a screen without a camera: which creatives may play to nobody seen.

A screen without a camera plays the ads a decision for an empty audience would find
eligible there and then (the same :func:`~adlens.ads.rules.evaluate`: screens, hours,
days, exclusions, daily caps; person-level targeting, members-only included, needs
someone present), less the age-restricted ones: without a camera nobody's age is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adlens.ads.inventory import Ad
from adlens.ads.rules import Eligibility, RuleContext, evaluate
from adlens.audience import Audience

#: What the slideshow's decision events name as their source.
SLIDESHOW = "slideshow"


@dataclass(frozen=True)
class Slide:
    """One creative of the slideshow of a screen without a camera."""

    ad: str
    ad_name: str
    creative: str
    caption: str | None
    duration: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"ad": self.ad, "ad_name": self.ad_name, "creative": self.creative, "caption": self.caption,
                "duration": self.duration}


def may_slide(ad: Ad, audience: Audience, context: RuleContext) -> Eligibility:
    """May ``ad`` play to nobody seen? A decision's rules, and never an age-restricted ad."""
    if ad.is_age_restricted:
        return Eligibility(ad.id, False, ["age-restricted: nobody's age is checked without a camera"])
    return evaluate(ad, audience, context)


def slides(ads: list[Ad], audience: Audience, context: RuleContext, default_duration: float) -> list[Slide]:
    """Every creative of the ``ads`` that :func:`may_slide`, best ads (priority) first."""
    found: list[Slide] = []
    for ad in sorted(ads, key=lambda a: (-a.priority, a.id)):
        if may_slide(ad, audience, context).eligible:
            found.extend(Slide(ad.id, ad.name, c.id, c.caption, float(c.duration or default_duration))
                         for c in ad.creatives)
    return found
