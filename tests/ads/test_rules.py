"""Eligibility rules: windows, exclusions that always win, caps, person-level targeting and affinity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from adlens.audience import Audience
from adlens.ads.inventory import Ad, validate_ad
from adlens.ads.rules import UNTARGETED, RuleContext, evaluate, evaluate_all
from adlens.faces import EMOTIONS
from adlens.settings import Settings
from builders import make_faces

#: Monday 3 June 2024, 09:30 local time (rules read local time from ``now.astimezone()``).
MONDAY_MORNING = datetime(2024, 6, 3, 9, 30).astimezone()


def one_hot(emotion: str) -> list[float]:
    return [1.0 if e == emotion else 0.0 for e in EMOTIONS]


def make_audience(
    *faces: dict[str, Any], screen: str = "entrance", customers: list[str | None] | None = None,
    drop: tuple[str, ...] = (),
) -> Audience:
    """An audience of synthetic faces: each dict may set age, gender, emotion, eyewear, beard, hat, attention.

    Defaults: a 30-year-old neutral woman, no accessories, looking at the screen; ``drop``
    removes columns, as when a model did not run.
    """
    n = len(faces)
    defaults = {"age": 30.0, "gender": "female", "emotion": "neutral", "eyewear": 0.1, "beard": 0.1, "hat": 0.1,
                "attention": 0.9}
    rows = [defaults | face for face in faces]
    columns: dict[str, np.ndarray] = {
        "age": np.array([r["age"] for r in rows], dtype=np.float32),
        "gender": np.array([r["gender"] for r in rows]),
        "emotion": np.array([one_hot(r["emotion"]) for r in rows], dtype=np.float32).reshape(n, len(EMOTIONS)),
        **{a: np.array([r[a] for r in rows], dtype=np.float32) for a in ("eyewear", "beard", "hat")},
        "attention": np.array([r["attention"] for r in rows], dtype=np.float32),
        "distance": np.arange(1, n + 1, dtype=np.float32),  # the first face is the nearest
    }
    for name in drop:
        columns.pop(name)
    boxes = np.array([[10.0 + 100 * i, 10.0, 80.0, 80.0] for i in range(n)]).reshape(n, 4)
    found = make_faces(boxes, **columns)
    return Audience.from_faces(found, (640, 480), screen, MONDAY_MORNING, customers)


def make_ad(**fields: Any) -> Ad:
    return validate_ad({"id": "ad", "creatives": [{"id": "c", "image": "c.png"}], **fields},
                       restricted_categories=["alcohol", "tobacco"])


def context(**fields: Any) -> RuleContext:
    return RuleContext(**{"now": MONDAY_MORNING, "adult_age": 25.0} | fields)


@pytest.mark.parametrize(("fields", "eligible", "reason"), [
    ({}, True, "targets everyone"),
    ({"active": False}, False, "inactive"),
    ({"targeting": {"screens": ["entrance", "door"]}}, True, "targets everyone"),
    ({"targeting": {"screens": ["checkout"]}}, False, "not for screen 'entrance' (screens: checkout)"),
    ({"targeting": {"time": ["08:00-12:00", "17:00-20:00"]}}, True, "targets everyone"),
    ({"targeting": {"time": ["17:00-20:00"]}}, False, "outside its hours 17:00-20:00 (now 09:30)"),
    ({"targeting": {"time": ["22:00-10:00"]}}, True, "targets everyone"),  # wraps midnight
    ({"targeting": {"time": ["22:00-09:30"]}}, False, "outside its hours"),  # the end is exclusive
    ({"targeting": {"days": ["mon", "tue"]}}, True, "targets everyone"),
    ({"targeting": {"days": ["sat", "sun"]}}, False, "not shown on mon (days: sat, sun)"),
    ({"exclude": {"screens": ["entrance"]}}, False, "excluded: screen entrance"),
    ({"exclude": {"time": ["09:00-10:00"]}}, False, "excluded: hours 09:00-10:00"),
    ({"exclude": {"days": ["mon"]}}, False, "excluded: mon"),
    ({"exclude": {"days": ["sun"], "time": ["20:00-08:00"]}}, True, "targets everyone"),
])
def test_screen_time_and_day_windows(fields: dict, eligible: bool, reason: str) -> None:
    verdict = evaluate(make_ad(**fields), make_audience({}), context())
    assert verdict.eligible is eligible
    assert verdict.reasons[0].startswith(reason)


@pytest.mark.parametrize(("fields", "faces", "drop", "eligible", "reason"), [
    ({"categories": ["Alcohol"]}, [{"age": 40}, {"age": 22}], (), False,
     "a person who may be under 25 is present (age-restricted: Alcohol)"),
    ({"categories": ["alcohol"]}, [{"age": 40}, {"age": 30}], (), True, "targets everyone"),
    ({"categories": ["alcohol"]}, [{"age": 40}], ("age",), False, "a person who may be under 25"),  # ages unknown
    ({"age_restricted": True}, [{"age": 16}], (), False, "(age-restricted: flagged)"),
    # the global exclusion wins over a targeting that would match the minor
    ({"categories": ["tobacco"], "targeting": {"age": [10, 20]}}, [{"age": 16}], (), False, "a person who may"),
    ({"categories": ["beer"]}, [{"age": 16}], (), True, "targets everyone"),  # not a restricted category
    ({"exclude": {"emotions": ["sad"]}}, [{"emotion": "happy"}, {"emotion": "sad"}], (), False,
     "excluded: sad (1 of 2 faces)"),
    ({"exclude": {"emotions": ["sad"]}}, [{"emotion": "happy"}], (), True, "targets everyone"),
    ({"exclude": {"emotions": ["sad"]}}, [{}], ("emotion",), False, "excluded: sad (cannot be verified"),
    ({"exclude": {"age": [0, 17], "attributes": {"hat": True}}}, [{"age": 30, "hat": 0.8}], (), False,
     "excluded: hat"),  # any one key excludes
    ({"exclude": {"gender": ["male"]}, "targeting": {"gender": ["female"]}}, [{"gender": "female"},
     {"gender": "male"}], (), False, "excluded: male"),
])
def test_exclusions_always_win(fields: dict, faces: list[dict], drop: tuple, eligible: bool, reason: str) -> None:
    verdict = evaluate(make_ad(**fields), make_audience(*faces, drop=drop), context())
    assert verdict.eligible is eligible, verdict.reasons
    assert reason in verdict.reasons[0]


def test_adult_age_comes_from_the_context() -> None:
    ad, audience = make_ad(categories=["alcohol"]), make_audience({"age": 21})
    assert not evaluate(ad, audience, context(adult_age=25)).eligible
    assert evaluate(ad, audience, context(adult_age=18)).eligible


def test_an_empty_audience_sees_only_untargeted_ads() -> None:
    empty = make_audience()
    assert evaluate(make_ad(), empty, context()).eligible
    assert evaluate(make_ad(categories=["alcohol"], exclude={"emotions": ["sad"]}), empty, context()).eligible
    verdict = evaluate(make_ad(targeting={"age": [18, 40]}), empty, context())
    assert not verdict.eligible and verdict.reasons == ["targets age 18-40: nobody present"]


@pytest.mark.parametrize("counts", [{"ad": 500}, lambda ad_id: 500 if ad_id == "ad" else 0])
def test_daily_cap(counts: Any) -> None:
    audience = make_audience({})
    verdict = evaluate(make_ad(daily_cap=500), audience, context(impressions_today=counts))
    assert not verdict.eligible and verdict.reasons == ["daily cap 500 reached"]
    assert evaluate(make_ad(daily_cap=501), audience, context(impressions_today=counts)).eligible
    assert evaluate(make_ad(daily_cap=500), audience, context()).eligible


def test_frequency_cap_counts_the_main_viewer() -> None:
    calls: list[tuple[str, str, float]] = []

    def shown_to(person: str, ad_id: str, hours: float) -> int:
        calls.append((person, ad_id, hours))
        return {"m1": 3, "track-7": 1}.get(person, 0)

    ad = make_ad(frequency_cap={"count": 3, "hours": 24})
    member = make_audience({}, {}, customers=["m1", None])  # m1 is the nearest, so the main viewer
    verdict = evaluate(ad, member, context(shown_to=shown_to), person_key="track-7")
    assert not verdict.eligible and "frequency cap 3 per 24 h" in verdict.reasons[0]
    assert calls == [("m1", "ad", 24.0)]  # an identified member's id wins over the caller's key
    assert evaluate(ad, make_audience({}), context(shown_to=shown_to), person_key="track-7").eligible
    assert evaluate(ad, make_audience({}), context(shown_to=shown_to)).eligible  # nobody to count for
    assert evaluate(ad, member, context()).eligible  # no counter: the cap cannot apply


@pytest.mark.parametrize(("targeting", "faces", "customers", "matched", "reason"), [
    ({"attributes": {"eyewear": True}}, [{"eyewear": 0.9}, {"eyewear": 0.2}], None, [0],
     "targets eyewear: 1 of 2 faces match"),
    ({"age": [18, 40], "gender": ["female"]}, [{"age": 30, "gender": "male"}, {"age": 50}, {"age": 40.7}], None,
     [2], "targets age 18-40, female: 1 of 3 faces match"),  # every condition on the same face
    ({"emotions": ["happy", "surprise"]}, [{"emotion": "surprise"}, {"emotion": "happy"}], None, [0, 1],
     "targets happy/surprise: 2 of 2 faces match"),
    ({"attributes": {"beard": False, "hat": True}}, [{"hat": 0.7}, {"hat": 0.7, "beard": 0.6}], None, [0],
     "targets no beard, hat: 1 of 2"),
    ({"members_only": True}, [{}, {}], [None, "m2"], [1], "targets members: 1 of 2"),
    ({"segments": [3]}, [{}, {}, {}], ["m1", "m2", None], [1], "targets segment 3: 1 of 3"),
    ({"gender": ["male"]}, [{}], None, [], "targets male: 0 of 1 faces match"),
])
def test_person_level_targeting(targeting: dict, faces: list, customers: list | None, matched: list[int],
                                reason: str) -> None:
    audience = make_audience(*faces, customers=customers)
    verdict = evaluate(make_ad(targeting=targeting), audience, context(segments={"m1": 1, "m2": 3}))
    assert verdict.eligible is bool(matched)
    assert verdict.matched_faces == matched
    assert verdict.reasons[0].startswith(reason)


def test_an_unestimated_attribute_cannot_match() -> None:
    audience = make_audience({"eyewear": 0.9}, drop=("eyewear",))
    verdict = evaluate(make_ad(targeting={"attributes": {"eyewear": True}}), audience, context())
    assert not verdict.eligible
    assert verdict.reasons == ["targets eyewear: 0 of 1 faces match (attributes not estimated)"]


@pytest.mark.parametrize(("attention", "share"), [
    ([0.9, 0.9], 0.5),
    ([0.9, 0.1], 0.9),  # the matching face is the one looking
    ([0.1, 0.9], 0.1),
    ([0.0, 0.0], 0.5),  # nobody looking: plain share
])
def test_affinity_is_attention_weighted(attention: list[float], share: float) -> None:
    audience = make_audience({"eyewear": 0.9, "attention": attention[0]}, {"attention": attention[1]})
    verdict = evaluate(make_ad(targeting={"attributes": {"eyewear": True}}), audience, context())
    assert verdict.affinity == pytest.approx(UNTARGETED + (1 - UNTARGETED) * share, abs=1e-6)
    untargeted = evaluate(make_ad(), audience, context())
    assert untargeted.affinity == UNTARGETED and verdict.affinity > untargeted.affinity
    assert untargeted.matched_faces == [0, 1]


def test_evaluate_all_and_ineligible_affinity() -> None:
    ads = [make_ad(), make_ad(id="other", active=False)]
    verdicts = evaluate_all(ads, make_audience({}), context())
    assert [(v.ad_id, v.eligible) for v in verdicts] == [("ad", True), ("other", False)]
    assert verdicts[1].affinity == 0.0 and verdicts[1].to_dict()["reasons"] == ["inactive"]


def test_context_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RuleContext(now=datetime(2024, 6, 3, 9, 30))


# --- predicted uplift ------------------------------------------------------------------

#: Predicted uplift under "spring": "hi" is moved by the offer, "lo" put off by it, "new" not scored.
UPLIFT = {"hi": 0.2, "mid": 0.05, "lo": -0.1}
#: Taste segments of the members, and each segment's mean predicted uplift (as the store would report it).
MEMBER_SEGMENTS: dict[str, int | None] = {"hi": 1, "lo": 1, "mid": 2, "new": 2, "loner": None}
MEANS = {1: 0.08, 2: -0.02}


def uplift_context(**fields: Any) -> RuleContext:
    """A context whose ``uplift_of`` knows campaign "spring" only, by customer and by segment."""
    def uplift_of(campaign: str, by: str, member: str) -> float | None:
        if campaign != "spring":
            return None
        if by == "segment":
            segment = MEMBER_SEGMENTS.get(member)
            return None if segment is None else MEANS.get(segment)
        return UPLIFT.get(member)

    return context(**{"segments": MEMBER_SEGMENTS, "uplift_of": uplift_of} | fields)


@pytest.mark.parametrize(("rule", "customers", "matched", "reason"), [
    ({"min": 0.05}, ["hi", "mid", "lo"], [0, 1], "targets uplift ≥ 0.05 (spring): 2 of 3 faces match"),
    ({"max": 0}, ["hi", "lo"], [1], "targets uplift ≤ 0 (spring): 1 of 2"),
    ({"min": 0, "max": 0.1}, ["hi", "mid"], [1], "targets uplift in [0, 0.1] (spring): 1 of 2"),
    ({"min": -1}, [None, "new"], [], "targets uplift ≥ -1 (spring): 0 of 2"),  # anonymous or not scored
    ({"min": -1, "campaign": "autumn"}, ["hi"], [], "targets uplift ≥ -1 (autumn): 0 of 1"),  # no such scores
    ({"min": 0.05, "by": "segment"}, ["lo", "mid"], [0], "targets segment uplift ≥ 0.05 (spring): 1 of 2"),
    ({"max": 0, "by": "segment"}, ["new", "hi", "loner"], [0], "targets segment uplift ≤ 0 (spring): 1 of 3"),
    ({"min": -1, "by": "segment"}, [None], [], "targets segment uplift ≥ -1 (spring): 0 of 1"),
])
def test_uplift_targeting(rule: dict, customers: list[str | None], matched: list[int], reason: str) -> None:
    ad = make_ad(targeting={"uplift": {"campaign": "spring"} | rule})
    verdict = evaluate(ad, make_audience(*({} for _ in customers), customers=customers), uplift_context())
    assert verdict.matched_faces == matched
    assert verdict.eligible is bool(matched)
    assert verdict.reasons[0].startswith(reason)


def test_uplift_combines_with_other_targeting_on_the_same_face() -> None:
    ad = make_ad(targeting={"uplift": {"campaign": "spring", "min": 0}, "attributes": {"eyewear": True}})
    audience = make_audience({"eyewear": 0.9}, {"eyewear": 0.1}, customers=["lo", "hi"])
    verdict = evaluate(ad, audience, uplift_context())
    assert not verdict.eligible and verdict.reasons[0].startswith("targets eyewear, uplift ≥ 0 (spring): 0 of 2")


@pytest.mark.parametrize(("rule", "customers", "reason"), [
    ({"max": 0}, ["hi", "lo"], "excluded: uplift ≤ 0 (spring) (1 of 2 faces)"),  # keeps sleeping dogs away
    ({"max": 0}, ["hi", None], None),
    ({"max": 0}, [None], None),  # an anonymous face is not excluded: it has no predicted uplift
    ({"max": 0}, ["new"], None),  # nor is a member the campaign did not score
    ({"max": 0, "by": "segment"}, ["hi", "mid"], "excluded: segment uplift ≤ 0 (spring) (1 of 2 faces)"),
    ({"max": 0, "by": "segment"}, ["hi", "loner"], None),
])
def test_uplift_exclusion(rule: dict, customers: list[str | None], reason: str | None) -> None:
    ad = make_ad(exclude={"uplift": {"campaign": "spring"} | rule})
    verdict = evaluate(ad, make_audience(*({} for _ in customers), customers=customers), uplift_context())
    if reason is None:
        assert verdict.eligible and verdict.reasons == ["targets everyone"]
    else:
        assert not verdict.eligible and verdict.reasons == [reason]


def test_without_uplift_lookups_nobody_matches_and_nobody_is_excluded() -> None:
    audience = make_audience({}, customers=["hi"])
    assert not evaluate(make_ad(targeting={"uplift": {"campaign": "spring", "min": -1}}), audience, context()).eligible
    assert evaluate(make_ad(exclude={"uplift": {"campaign": "spring", "max": 1}}), audience, context()).eligible


@pytest.mark.parametrize(("threshold", "eligible"), [(0.5, True), (0.95, False)])
def test_attribute_targeting_uses_the_contexts_threshold(threshold: float, eligible: bool) -> None:
    audience = make_audience({"eyewear": 0.9})
    verdict = evaluate(make_ad(targeting={"attributes": {"eyewear": True}}), audience,
                       context(settings=Settings(attribute_threshold=threshold)))
    assert verdict.eligible is eligible


@pytest.mark.parametrize(("age", "matched"), [(24.96, False), (25.0, True), (34.99, True), (35.0, False)])
def test_age_targeting_reads_the_age_shown(age: float, matched: bool) -> None:
    """A face labelled "age 24 (18-24)" (24.96) is not in a 25-34 target; one labelled "age 34" is."""
    verdict = evaluate(make_ad(targeting={"age": [25, 34]}), make_audience({"age": age}), context())
    assert verdict.eligible is matched
