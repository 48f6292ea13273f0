"""How eligible ads are scored: a weighted sum of rule affinity, taste, mood fit, engagement and priority.

Each component lies in [0, 1] and counts by :data:`WEIGHTS`: the rules' affinity (how
well targeting fits, :mod:`adlens.ads.rules`), the identified member's taste for the ad's
products (members mode), how the ad's mood fits the group's emotion, learned engagement
(LinUCB's upper confidence bound on the audience features) and the operator's priority.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adlens.ads.bandit import LinUCB
from adlens.ads.emotion import NEUTRAL_FIT, EmotionFit
from adlens.ads.inventory import Ad
from adlens.ads.rules import Eligibility
from adlens.audience import Audience
from adlens.events import Candidate
from adlens.products.recommend import Recommender
from adlens.products.vectors import AspectIndex

#: How much each score component counts in an ad's total (each component lies in [0, 1]).
WEIGHTS = {"rules": 1.0, "taste": 1.0, "emotion": 0.5, "engagement": 1.0, "priority": 0.5}
#: Per ad id: how well its products suit the member (in [0, 1]) and the reason.
Taste = dict[str, tuple[float, str]]


@dataclass(frozen=True)
class Scored:
    """An eligible ad's score components with their total, and the reasons they give."""

    scores: dict[str, float]
    reasons: list[str]


def score(eligible: list[tuple[Ad, Eligibility]], audience: Audience, features: np.ndarray, bandit: LinUCB,
          taste: Taste, fit_table: EmotionFit) -> dict[str, Scored]:
    """Each eligible ad's :class:`Scored` by ad id (see the module docstring)."""
    if not eligible:
        return {}
    ids = [ad.id for ad, _ in eligible]
    mean, bonus = bandit.estimate(features[None, :], ids)
    expected, upper = mean[0], mean[0] + bonus[0]
    group = audience.group_emotion()
    fits = fit_table.fits(group)  # every mood at once; a mood it lacks fits neutrally
    scored = {}
    for i, (ad, verdict) in enumerate(eligible):
        liking, why = taste.get(ad.id, (0.0, ""))
        parts = {
            "rules": float(verdict.affinity),
            "taste": liking,
            "emotion": fits.get(ad.mood, NEUTRAL_FIT) if ad.mood is not None else NEUTRAL_FIT,
            "engagement": min(max(float(upper[i]), 0.0), 1.0),
            "priority": ad.priority / 10.0,
        }
        total = sum(WEIGHTS[k] * v for k, v in parts.items())
        reasons = [why] if why else []
        if ad.mood and group is not None:
            reasons.append(f"mood '{ad.mood}' fits the audience's emotion: {parts['emotion']:.2f}")
        reasons.append(f"learned engagement {expected[i]:.2f} (upper bound {upper[i]:.2f})")
        scores = {**{k: round(v, 4) for k, v in parts.items()}, "expected": round(float(expected[i]), 4),
                  "total": round(total, 4)}
        scored[ad.id] = Scored(scores, reasons)
    return scored


def taste(member: str, profile: dict[str, float], index: AspectIndex, ads: list[Ad]) -> Taste:
    """Per ad: how well its products suit ``member``'s taste ``profile`` (the best cosine) and the reason."""
    if not profile or not len(index):
        return {}
    recommender = Recommender(index)
    if recommender.is_cold(profile):
        return {}
    found = {}
    for ad in ads:
        products = [p for p in ad.products if p in index]
        if not products:
            continue
        best = recommender.recommend(profile, 1, allowed=products)
        if best and best[0].score > 0 and not best[0].cold_start:
            found[ad.id] = (min(best[0].score, 1.0), f"member {member} {', '.join(best[0].reasons)}".strip())
    return found


def candidate(ad: Ad, verdict: Eligibility, scored: Scored | None) -> Candidate:
    """What a decision keeps of one ad it considered."""
    return Candidate(ad=ad.id, eligible=bool(verdict.eligible),
                     score=None if scored is None else scored.scores["total"],
                     scores=None if scored is None else dict(scored.scores), reasons=list(verdict.reasons))


def why_none(ads: list[Ad], verdicts: list[Eligibility], faces: int) -> list[str]:
    """The reasons a decision over ``ads`` for ``faces`` face(s) found no eligible ad."""
    if not ads:
        return ["no active ad in the inventory: import one with adlens ads import"]
    reasons = [f"no eligible ad among {len(ads)} for {faces} face(s)"]
    for ad, verdict in list(zip(ads, verdicts, strict=True))[:5]:
        reasons.append(f"{ad.id}: {'; '.join(verdict.reasons) or 'not eligible'}")
    return reasons
