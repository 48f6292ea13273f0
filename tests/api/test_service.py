"""The app's shared state: per-process without ADLENS_REDIS_URL, shared through Redis with it."""

from __future__ import annotations

import pytest

from adlens.api.keys import hash_key
from adlens.api.limits import RateLimiter


def test_without_redis_everything_is_per_process(api) -> None:
    service = api.service
    assert service.fleet is None and service.bus is None
    assert type(service.limiter) is RateLimiter and type(service.address_limiter) is RateLimiter
    assert service.store.on_change is None
    assert api.get("/v1/reports/live", "analyst").json()["live_screens"] == 0


def test_with_redis_limits_notices_and_screens_are_shared(make_api, redis_url: str, prefix: str) -> None:
    from adlens.api.shared_limits import SharedRateLimiter
    from adlens.fleet.screens import SharedLiveScreens

    app = make_api(redis_url=redis_url, redis_prefix=prefix, api_rate_limit=0.001, api_rate_burst=3)
    service = app.service
    assert isinstance(service.limiter, SharedRateLimiter) and service.limiter.kind == "key"
    assert isinstance(service.address_limiter, SharedRateLimiter) and service.address_limiter.kind == "address"
    assert service.bus is not None and service.store.on_change == service.bus.publish
    assert service.bus.subscribed.wait(10)
    assert isinstance(service.screens, SharedLiveScreens)
    statuses = [app.get("/v1/ads", "analyst").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert service.fleet.client.exists(service.fleet.key("rate", "key", hash_key(app.keys["analyst"])))


def test_a_bad_redis_url_stops_the_app_with_a_clear_error(make_api) -> None:
    pytest.importorskip("redis")
    from adlens.errors import StoreError

    with pytest.raises(StoreError, match="invalid ADLENS_REDIS_URL"):
        make_api(redis_url="http://nowhere")


def test_a_gallery_notice_from_another_worker_marks_the_gallery_changed(make_api, redis_url: str, prefix: str,
                                                                       monkeypatch) -> None:
    app = make_api(redis_url=redis_url, redis_prefix=prefix)
    service = app.service
    calls: list[str] = []
    monkeypatch.setattr(service.gallery, "changed", lambda: calls.append("changed"))
    service._changed_elsewhere(frozenset({"ads"}))
    assert calls == []
    service._changed_elsewhere(frozenset({"ads", "gallery"}))
    assert calls == ["changed"] and service._changed_elsewhere in service.bus.listeners



def test_the_decision_engine_is_ready_when_the_app_starts(api) -> None:
    assert "decider" in api.service.__dict__  # built at start-up, not by the first decision
    assert api.service.decider.cache._ads is not None


def test_a_failed_warm_up_is_logged_and_left_to_the_first_decision(api, monkeypatch, caplog) -> None:
    from adlens.errors import StoreError

    service = api.service
    del service.__dict__["decider"]

    def broken(*_args, **_kwargs):
        raise StoreError("the database is unreachable")

    monkeypatch.setattr(service.store, "list_ads", broken)
    monkeypatch.setattr(service.store, "ads_version", broken)
    with caplog.at_level("WARNING", logger="adlens.api"):
        service.warm_up()
    assert "first decision will try again" in caplog.text and "unreachable" in caplog.text
    monkeypatch.undo()
    body = {"faces": []}
    assert api.post("/v1/decide", role="screen", json=body).status_code == 200
