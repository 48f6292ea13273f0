"""/v1/slideshow and /v1/slideshow/plays: a screen without a camera plays only what a decision for nobody may."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from adlens.events import DECISION, PLAY


def _window(start_hours: float, end_hours: float) -> str:
    """A daily window from ``start_hours`` to ``end_hours`` from now, local time (``HH:MM-HH:MM``)."""
    now = datetime.now().astimezone()
    start, end = now + timedelta(hours=start_hours), now + timedelta(hours=end_hours)
    return f"{start:%H:%M}-{end:%H:%M}"


def _creatives(n: int = 1) -> list[dict[str, Any]]:
    return [{"id": f"c{i}", "image": "creative.png", "caption": f"slide {i}"} for i in range(n)]


def inventory() -> dict[str, Any]:
    """One ad per rule, each named after why it may (or may not) play in the lobby now."""
    return {"ads": [
        {"id": "everyone", "priority": 1, "creatives": _creatives(2)},
        {"id": "now", "priority": 5, "targeting": {"time": [_window(-2, 2)]}, "creatives": _creatives()},
        {"id": "capped", "daily_cap": 1, "creatives": _creatives()},
        {"id": "members-only", "targeting": {"members_only": True}, "creatives": _creatives()},
        {"id": "women", "targeting": {"gender": ["female"]}, "creatives": _creatives()},
        {"id": "backroom", "targeting": {"screens": ["backroom"]}, "creatives": _creatives()},
        {"id": "not-lobby", "exclude": {"screens": ["lobby"]}, "creatives": _creatives()},
        {"id": "later", "targeting": {"time": [_window(3, 5)]}, "creatives": _creatives()},
        {"id": "wine", "categories": ["alcohol"], "creatives": _creatives()},
        {"id": "flagged", "age_restricted": True, "creatives": _creatives()},
        {"id": "paused", "active": False, "creatives": _creatives()},
    ]}


@pytest.fixture()
def shop(api: Any, tmp_path: Path) -> Any:
    """The test app with :func:`inventory` imported."""
    from adlens.ads.importer import import_inventory
    from adlens.ads.loading import parse_inventory
    from adlens.crypto import EmbeddingCipher

    cv2.imwrite(str(tmp_path / "creative.png"), np.full((90, 160, 3), 128, np.uint8))
    parsed = parse_inventory(inventory(), tmp_path, "slideshow inventory")
    assert not parsed.problems, parsed.problems
    report = import_inventory(api.store, parsed, cipher=EmbeddingCipher(api.service.settings))
    assert not report.problems, report.to_dict()
    return api


def _slides(api: Any, screen: str = "lobby") -> list[dict[str, Any]]:
    response = api.get("/v1/slideshow", role="screen", params={"screen": screen})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["screen"] == screen and body["refresh"] > 0
    return body["slides"]


def _play(api: Any, ad: str, creative: str = "c0", screen: str = "lobby") -> Any:
    return api.post("/v1/slideshow/plays", role="screen", json={"screen": screen, "ad": ad, "creative": creative})


def test_the_slideshow_holds_only_ads_a_decision_for_nobody_may_choose_best_first(shop):
    slides = _slides(shop)
    assert [(s["ad"], s["creative"]) for s in slides] == [
        ("now", "c0"), ("everyone", "c0"), ("everyone", "c1"), ("capped", "c0")]
    first = slides[1]
    assert first["caption"] == "slide 0" and first["duration"] > 0
    assert first["url"] == "/v1/ads/everyone/creatives/c0/image"
    assert shop.get(first["url"], role="screen").status_code == 200


def test_each_screen_gets_its_own_ads(shop):
    ads = {s["ad"] for s in _slides(shop, "backroom")}
    assert ads == {"now", "everyone", "capped", "backroom", "not-lobby"}


@pytest.mark.parametrize("ad, why", [
    ("members-only", "nobody present"), ("women", "nobody present"), ("backroom", "not for screen"),
    ("not-lobby", "excluded: screen lobby"), ("later", "outside its hours"), ("wine", "age-restricted"),
    ("flagged", "age-restricted"),
])
def test_a_slide_that_may_not_play_is_refused_with_its_reason_and_not_logged(shop, ad, why):
    response = _play(shop, ad)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["played"] is False and body["decision_id"] is None
    assert why in " ".join(body["reasons"])
    assert shop.store.events() == []


def test_a_slide_played_is_logged_as_a_decision_and_a_play_that_caps_and_reports_count(shop):
    response = _play(shop, "capped")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["played"] is True and body["duration"] > 0
    decision = shop.store.decision_event(body["decision_id"])
    assert (decision.ad_id, decision.creative_id, decision.screen) == ("capped", "c0", "lobby")
    assert decision.data.source == "slideshow" and decision.data.audience.faces == 0
    [play] = shop.store.events(kinds=[PLAY])
    assert play.decision_id == body["decision_id"] and play.value == body["duration"]
    assert play.data.ots == 0

    # Its daily cap of one is now reached: it leaves the playlist, and a stale playlist cannot overrun it.
    assert "capped" not in {s["ad"] for s in _slides(shop)}
    again = _play(shop, "capped").json()
    assert again["played"] is False and "daily cap 1 reached" in again["reasons"][0]
    assert len(shop.store.events(kinds=[DECISION])) == 1

    ads = {ad["id"]: ad for ad in shop.get("/v1/ads", role="analyst").json()["ads"]}
    assert ads["capped"]["performance"]["plays"] == 1 and ads["capped"]["performance"]["impressions"] == 1


def test_unknown_ads_creatives_and_inactive_ads_are_404(shop):
    assert _play(shop, "nope").status_code == 404
    assert _play(shop, "paused").status_code == 404
    missing = _play(shop, "everyone", creative="nope")
    assert missing.status_code == 404 and "nope" in missing.json()["message"]
    assert shop.store.events() == []


@pytest.mark.parametrize("params", [{"screen": ""}, {"screen": "x" * 129}, {"screen": "a\x00b"}])
def test_bad_screen_ids_are_422(shop, params):
    assert shop.get("/v1/slideshow", role="screen", params=params).status_code == 422
    body = {"ad": "everyone", "creative": "c0", **params}
    assert shop.post("/v1/slideshow/plays", role="screen", json=body).status_code == 422


@pytest.mark.parametrize("body", [{}, {"ad": "everyone"}, {"ad": "everyone", "creative": "c0", "extra": 1}])
def test_incomplete_play_bodies_are_422(shop, body):
    assert shop.post("/v1/slideshow/plays", role="screen", json=body).status_code == 422
    assert shop.store.events() == []


def test_the_slideshow_needs_a_screen_key(shop):
    assert shop.get("/v1/slideshow", role="analyst").status_code == 403
    assert shop.client.get("/v1/slideshow").status_code == 401
    assert shop.post("/v1/slideshow/plays", role="analyst", json={"ad": "everyone", "creative": "c0"}).status_code \
        == 403


def test_the_default_screen_is_the_servers(shop):
    body = shop.get("/v1/slideshow", role="screen").json()
    assert body["screen"] == shop.service.settings.screen and body["slides"]


def test_reports_count_slideshow_plays_but_not_as_an_audience_of_nobody(shop):
    from adlens.reports.metrics import load_metrics

    assert _play(shop, "everyone").json()["played"] is True
    metrics = load_metrics(shop.store)
    assert metrics.total.impressions == 1 and metrics.counts[PLAY] == 1
    # Nothing looked, so nobody was counted: not a mean of zero faces that drags the audience plot down.
    assert [b.faces_mean for b in metrics.timeline] == [None] and metrics.ages == {}
