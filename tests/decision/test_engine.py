"""The decision engine on synthetic audiences (no model runs), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import event

from adlens.audience import FEATURE_NAMES, Audience
from adlens.decision import Decider
from adlens.ads.importer import import_inventory
from adlens.ads.loading import parse_inventory
from adlens.crypto import EmbeddingCipher
from adlens.errors import ConflictError, InvalidInputError, InvalidTimeError, NotFoundError
from adlens.faces import EMOTIONS, Faces
from adlens.settings import Settings, get_settings
from adlens.store import Store
from adlens.events import DECISION, PLAY, REWARD
from builders import make_faces, row_of_boxes

HAPPY = EMOTIONS.index("happy")


def viewers(ages: list[float], *, gender: str = "female", eyewear: float = 0.0, hat: float = 0.0,
            emotion: int = HAPPY, embeddings: np.ndarray | None = None) -> Faces:
    """Frontal faces in a row, 100 px wide, with the given ages and attribute probabilities."""
    mix = np.full((len(ages), 7), 0.02, dtype=np.float32)
    mix[:, emotion] = 0.88
    return make_faces(row_of_boxes(len(ages), side=100, gap=50), embeddings, scores=1.0,
                      age=np.array(ages, dtype=np.float32), gender=gender, emotion=mix, eyewear=eyewear, beard=0.0,
                      hat=hat)


def audience(faces: Faces, screen: str = "door", customers: list[str | None] | None = None) -> Audience:
    return Audience.from_faces(faces, (1280, 720), screen, customers=customers)


INVENTORY = {"ads": [
    {"id": "shades", "name": "Shades", "mood": "upbeat", "priority": 1,
     "targeting": {"attributes": {"eyewear": True}}, "creatives": [{"id": "a", "image": "creative.png"}]},
    {"id": "wine", "name": "Wine", "categories": ["alcohol"], "priority": 10,
     "creatives": [{"id": "a", "image": "creative.png"}]},
    {"id": "caps", "name": "Caps", "mood": "upbeat", "priority": 1, "daily_cap": 1,
     "targeting": {"attributes": {"hat": True}}, "creatives": [{"id": "a", "image": "creative.png"}]},
]}


def load_ads(store: Any, folder: Path, document: dict[str, Any]) -> None:
    cv2.imwrite(str(folder / "creative.png"), np.full((90, 160, 3), 128, np.uint8))
    inventory = parse_inventory(document, folder, "test inventory")
    assert not inventory.problems, inventory.problems
    report = import_inventory(store, inventory, cipher=EmbeddingCipher())
    assert not report.problems


@pytest.fixture
def decider(store: Any, tmp_path: Path, data_dir: Path) -> Decider:
    load_ads(store, tmp_path, INVENTORY)
    return Decider(store)


def test_the_deciders_own_attribute_threshold_counts(store: Any, tmp_path: Path, data_dir: Path) -> None:
    """A decider with its own settings judges eyewear, and counts it in the summary, by its own threshold."""
    load_ads(store, tmp_path, INVENTORY)
    strict = Decider(store, Settings(attribute_threshold=0.95, data_dir=data_dir))
    decision = strict.decide(audience(viewers([30, 40], eyewear=0.9)))
    assert decision.ad != "shades" and decision.audience.attributes["eyewear"] == 0
    assert Decider(store).decide(audience(viewers([30, 40], eyewear=0.9))).audience.attributes["eyewear"] == 2


def test_eyewear_audience_gets_the_sunglasses_ad_and_the_decision_is_logged(decider: Decider, store: Any) -> None:
    decision = decider.decide(audience(viewers([30, 40], eyewear=0.9)))
    assert decision.ad == "shades" and decision.creative == "a"
    assert any("eyewear" in reason for reason in decision.reasons)
    assert decision.scores["total"] == max(c.score for c in decision.candidates if c.eligible)
    event = store.decision_event(decision.decision_id)
    assert event.kind == DECISION and event.ad_id == "shades" and event.customer_id is None
    assert event.data.audience.faces == 2 and event.data.mode == "anonymous"
    assert len(event.data.features) == len(FEATURE_NAMES)
    assert set(decision.to_json()) >= {"decision_id", "ad", "creative", "reasons", "candidates"}


@pytest.mark.parametrize("ages", [[30, 16], [40, 23]])
def test_age_restricted_ad_never_shown_when_a_minor_may_be_present(decider: Decider, ages: list[float]) -> None:
    decision = decider.decide(audience(viewers(ages)))
    assert decision.ad != "wine"
    wine = next(c for c in decision.candidates if c.ad == "wine")
    assert not wine.eligible and "under" in " ".join(wine.reasons)


def test_adults_only_audience_may_get_the_restricted_ad(decider: Decider) -> None:
    assert decider.decide(audience(viewers([40, 52]))).ad == "wine"


def test_nothing_eligible_says_why(decider: Decider, store: Any) -> None:
    decision = decider.decide(audience(viewers([])))  # nobody: targeted ads are out, wine (untargeted) is in
    assert decision.ad == "wine"
    decision = decider.decide(audience(viewers([15])))  # a teen without eyewear or hat
    assert decision.ad is None and decision.creative is None
    assert "no eligible ad" in decision.reasons[0]
    assert store.decision_event(decision.decision_id).ad_id is None


def test_empty_inventory(store: Any, data_dir: Path) -> None:
    decision = Decider(store).decide(audience(viewers([30])))
    assert decision.ad is None and "adlens ads import" in decision.reasons[0]


def test_daily_cap_moves_on_to_another_ad(decider: Decider) -> None:
    faces = viewers([30], hat=0.95, eyewear=0.0)
    assert decider.decide(audience(faces)).ad == "caps"
    second = decider.decide(audience(faces))
    assert second.ad != "caps"
    caps = next(c for c in second.candidates if c.ad == "caps")
    assert "daily cap" in " ".join(caps.reasons)


def test_reward_updates_the_arm_once_per_kind(decider: Decider, store: Any) -> None:
    decision = decider.decide(audience(viewers([30], eyewear=0.9)))
    assert decider.reward(decision.decision_id, 5.0, "dwell") == pytest.approx(0.5)
    assert decider.reward(decision.decision_id, 1, "click") == 1.0
    with pytest.raises(ConflictError, match="already has a dwell reward"):
        decider.reward(decision.decision_id, 7.0, "dwell")
    arm = store.arm_stats(["shades"], dims=len(FEATURE_NAMES))["shades"]
    assert arm.pulls == 2 and arm.reward_sum == pytest.approx(1.5)
    rewards = store.events(kinds=[REWARD], decision_id=decision.decision_id)
    assert [e.data.kind for e in rewards] == ["dwell", "click"]
    with pytest.raises(NotFoundError, match="unknown decision"):
        decider.reward("0" * 32, 1.0)


def test_simultaneous_identical_rewards_count_once(decider: Decider, store: Any) -> None:
    decision = decider.decide(audience(viewers([30], eyewear=0.9)))
    threads, start = 8, threading.Barrier(8)
    outcomes: list[object] = []

    def send() -> None:
        start.wait()
        try:
            outcomes.append(decider.reward(decision.decision_id, 5.0, "dwell"))
        except ConflictError as error:
            outcomes.append(error)

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError"] * (threads - 1) + ["float"]
    assert len(store.events(kinds=[REWARD], decision_id=decision.decision_id)) == 1
    arm = store.arm_stats(["shades"], dims=len(FEATURE_NAMES))["shades"]
    assert arm.pulls == 1 and arm.reward_sum == pytest.approx(0.5)
    with pytest.raises(ConflictError):  # a retry later changes nothing either
        decider.reward(decision.decision_id, 5.0, "dwell")
    assert store.arm_stats(["shades"], dims=len(FEATURE_NAMES))["shades"].pulls == 1


def test_a_reward_at_an_impossible_time_is_refused(decider: Decider, store: Any) -> None:
    decision = decider.decide(audience(viewers([30], eyewear=0.9)))
    for at in (datetime(9999, 12, 31, tzinfo=UTC), datetime(1999, 1, 1, tzinfo=UTC)):
        with pytest.raises(InvalidTimeError, match="^at "):
            decider.reward(decision.decision_id, 5.0, "dwell", at=at)
    assert store.events(kinds=[REWARD]) == []


def test_reward_of_a_decision_without_ad_is_refused(decider: Decider) -> None:
    decision = decider.decide(audience(viewers([15])))
    with pytest.raises(InvalidInputError, match="showed no ad"):
        decider.reward(decision.decision_id, 3.0)


def test_engagement_is_learned(store: Any, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADLENS_EXPLORATION", "0.05")
    get_settings.cache_clear()
    document = {"ads": [{"id": name, "creatives": [{"id": "a", "image": "creative.png"}]} for name in ("x", "y")]}
    load_ads(store, tmp_path, document)
    decider = Decider(store)
    crowd = audience(viewers([30, 31, 33]))
    for _ in range(12):
        decision = decider.decide(crowd)
        decider.reward(decision.decision_id, 10.0 if decision.ad == "y" else 0.0)
    assert decider.decide(crowd).ad == "y"


def test_play_event_holds_signage_metrics(decider: Decider, store: Any) -> None:
    decision = decider.decide(audience(viewers([30, 44], eyewear=0.9)))
    decider.log_play(decision, duration=8.0, dwell=5.0)
    play = store.events(kinds=[PLAY])[0]
    assert play.decision_id == decision.decision_id and play.value == 8.0
    assert play.data.ots == 2 and play.data.dwell == 10.0 and play.data.watchers == 2


def test_slideshow_plays_what_a_decision_for_nobody_may_and_its_plays_fill_caps(
        store: Any, tmp_path: Path, data_dir: Path) -> None:
    creatives = [{"id": "a", "image": "creative.png", "duration": 6}]
    load_ads(store, tmp_path, {"ads": [*INVENTORY["ads"], {"id": "all", "daily_cap": 1, "creatives": creatives},
                                       {"id": "members", "targeting": {"members_only": True}, "creatives": creatives}]})
    decider = Decider(store)
    # shades, caps and members target people; wine is age-restricted: only "all" may play to nobody.
    assert [(s.ad, s.creative, s.duration) for s in decider.slideshow("door")] == [("all", "a", 6.0)]
    played = decider.play_slide("door", "all", "a")
    assert played.ad == "all" and store.decision_event(played.decision_id).data.source == "slideshow"
    assert [(e.decision_id, e.value) for e in store.events(kinds=[PLAY])] == [(played.decision_id, 6.0)]
    assert decider.slideshow("door") == []  # its daily cap of one is reached
    assert "daily cap" in decider.play_slide("door", "all", "a").reasons[0]
    assert "age-restricted" in decider.play_slide("door", "wine", "a").reasons[0]
    assert len(store.events(kinds=[DECISION])) == 1
    with pytest.raises(NotFoundError):
        decider.play_slide("door", "all", "b")


class FakeGallery:
    """Identifies every face as one member (the real gallery has its own tests)."""

    def __init__(self, member: str) -> None:
        self.member = member

    def identify_embeddings(self, embeddings: np.ndarray) -> list[tuple[str | None, float | None]]:
        return [(self.member, 0.3) for _ in embeddings]


def test_members_mode_names_the_member_and_applies_their_frequency_cap(
    store: Any, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADLENS_MODE", "members")
    get_settings.cache_clear()
    document = {"ads": [
        {"id": "once", "priority": 10, "frequency_cap": {"count": 1, "hours": 24},
         "creatives": [{"id": "a", "image": "creative.png"}]},
        {"id": "always", "creatives": [{"id": "a", "image": "creative.png"}]},
    ]}
    load_ads(store, tmp_path, document)
    store.add_customer("alice")
    decider = Decider(store, gallery=FakeGallery("alice"))
    faces = viewers([35], embeddings=np.zeros((1, 128), np.float32))
    seen = decider.audience(faces, (1280, 720), "door")
    assert seen.members == ["alice"]
    first = decider.decide(seen)
    assert first.ad == "once" and store.decision_event(first.decision_id).customer_id == "alice"
    assert decider.decide(seen).ad == "always"
    store.remove_customer("alice")
    assert all(e.customer_id is None for e in store.events())


def test_lookalike_creative_is_preferred(store: Any, tmp_path: Path, data_dir: Path) -> None:
    document = {"ads": [{"id": "ad", "creatives": [{"id": "plain", "image": "creative.png"},
                                                   {"id": "twin", "image": "creative.png"}]}]}
    load_ads(store, tmp_path, document)
    twin = np.linspace(-0.2, 0.2, 128).astype(np.float32)
    decider = Decider(store)
    _ads, faces = decider.cache.inventory()  # warm the cache, then give "twin" a model face as an import would
    faces["ad"] = {"twin": twin}
    decision = decider.decide(audience(viewers([30], embeddings=twin[None, :] + 0.01)))
    assert decision.creative == "twin"
    assert any("model face" in reason for reason in decision.reasons)


def test_warm_decision_only_writes_its_event(store: Any, tmp_path: Path, data_dir: Path) -> None:
    load_ads(store, tmp_path, {"ads": INVENTORY["ads"][:2]})  # no daily cap: a cap counts today's decisions
    decider = Decider(store)
    decider.decide(audience(viewers([30], eyewear=0.9)))
    statements: list[str] = []

    def listener(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        decision = decider.decide(audience(viewers([30, 44], eyewear=0.9)))
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert [s.split()[:3] for s in statements] == [["INSERT", "INTO", "events"]]
    assert store.decision_event(decision.decision_id).ad_id == decision.ad == "shades"


def test_changes_count_at_once_here_and_after_the_refresh_interval_elsewhere(
    decider: Decider, store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eyewear = audience(viewers([30], eyewear=0.9))
    assert decider.decide(eyewear).ad == "shades"
    store.remove_ad("shades")  # through the decider's own store: seen at once
    assert decider.decide(eyewear).ad == "wine"

    monkeypatch.setattr("adlens.decision.cache.REFRESH_SECONDS", 3600.0)
    with Store(store.url) as other:  # another process, as far as generations go
        load_ads(other, tmp_path, INVENTORY)
        other.update_arm("wine", np.ones(len(FEATURE_NAMES)), 1.0)
        assert decider.decide(eyewear).ad == "wine"  # cached: not yet seen
        assert decider.decide(eyewear).scores["expected"] == 0.0
        monkeypatch.setattr("adlens.decision.cache.REFRESH_SECONDS", 0.0)
        assert decider.decide(eyewear).ad == "shades"
        wine = next(c for c in decider.decide(audience(viewers([40, 52]))).candidates if c.ad == "wine")
        assert wine.scores["expected"] > 0


# --- offers targeted by predicted uplift ---------------------------------------------------

UPLIFT_OFFERS = {"ads": [
    {"id": "offer", "priority": 10, "targeting": {"uplift": {"campaign": "spring", "min": 0.05}},
     "exclude": {"uplift": {"campaign": "spring", "max": 0}}, "creatives": [{"id": "a", "image": "creative.png"}]},
    {"id": "segment-offer", "priority": 5, "targeting": {"uplift": {"campaign": "spring", "min": 0.05,
                                                                     "by": "segment"}},
     "creatives": [{"id": "a", "image": "creative.png"}]},
    {"id": "always", "creatives": [{"id": "a", "image": "creative.png"}]},
]}


@pytest.fixture
def uplift_decider(store: Any, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Decider:
    """Members mode; "alice" has a high predicted uplift, "bob" a negative one, "carol" is not scored."""
    monkeypatch.setenv("ADLENS_MODE", "members")
    get_settings.cache_clear()
    load_ads(store, tmp_path, UPLIFT_OFFERS)
    store.add_customer("carol")
    store.save_uplift_scores("spring", ["alice", "bob", "dave"], [0.3, -0.1, 0.1])
    return Decider(store, gallery=FakeGallery("alice"))


def member_audience(decider: Decider, member: str) -> Audience:
    decider.gallery.member = member
    return decider.audience(viewers([35], embeddings=np.zeros((1, 128), np.float32)), (1280, 720), "door")


def test_an_offer_goes_to_a_member_it_moves_and_not_to_one_it_puts_off(uplift_decider: Decider) -> None:
    alice = uplift_decider.decide(member_audience(uplift_decider, "alice"))
    assert alice.ad == "offer"
    assert "targets uplift ≥ 0.05 (spring): 1 of 1 faces match" in alice.reasons
    bob = uplift_decider.decide(member_audience(uplift_decider, "bob"))
    assert bob.ad == "always"
    offer = next(c for c in bob.candidates if c.ad == "offer")
    assert offer.reasons == ["excluded: uplift ≤ 0 (spring) (1 of 1 faces)"]
    assert uplift_decider.decide(member_audience(uplift_decider, "carol")).ad == "always"  # not scored
    assert uplift_decider.decide(audience(viewers([35]))).ad == "always"  # anonymous


def test_segment_uplift_is_cached_until_segments_or_scores_change(
    uplift_decider: Decider, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert uplift_decider.decide(member_audience(uplift_decider, "bob")).ad == "always"  # bob has no segment
    store.replace_segments([{"label": "keen"}], {"alice": 0, "bob": 0})  # mean (0.3 - 0.1) / 2
    assert uplift_decider.decide(member_audience(uplift_decider, "bob")).ad == "segment-offer"
    monkeypatch.setattr("adlens.decision.cache.REFRESH_SECONDS", 3600.0)
    with Store(store.url) as other:  # another process, as far as generations go
        other.save_uplift_scores("spring", ["alice", "bob"], [0.3, -0.3])  # mean 0
        assert uplift_decider.decide(member_audience(uplift_decider, "bob")).ad == "segment-offer"  # cached
    store.replace_segments([{"label": "keen"}], {"alice": 0, "bob": 0})  # this process: seen at once
    assert uplift_decider.decide(member_audience(uplift_decider, "bob")).ad == "always"
    store.save_uplift_scores("spring", ["alice", "bob"], [0.3, 0.0])
    assert uplift_decider.decide(member_audience(uplift_decider, "bob")).ad == "segment-offer"


def test_uplift_costs_one_query_per_campaign_and_none_without_members(uplift_decider: Decider, store: Any) -> None:
    uplift_decider.decide(member_audience(uplift_decider, "alice"))  # warm: inventory, arms, segment means
    statements: list[str] = []

    def listener(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        uplift_decider.decide(member_audience(uplift_decider, "alice"))
        member = [s for s in statements if "uplift_scores" in s]
        statements.clear()
        uplift_decider.decide(audience(viewers([30, 44])))
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    assert len(member) == 1  # two ads read "spring" by customer, the segment means are cached
    assert [s.split()[:3] for s in statements] == [["INSERT", "INTO", "events"]]
