"""Two ``adlens serve`` processes on one PostgreSQL and one Redis behave as one service.

The servers run with the caches' refresh periods raised to an hour, so whatever one
server sees of a change made through the other within these tests it learnt from the
fleet's bus, not from polling. Each test uses its own key, ad, customer and screen.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest

from helpers import FACES_SMALL, MODELS, need, wait_until
from services import postgres_schema, redis_prefix

#: Each key's burst (the rate, 0.001/s, refills nothing during a test).
BURST = 40
#: Seconds the servers may take to load their models and answer (a guard against a hang, not a timing check).
START_TIMEOUT = 240.0
#: ``adlens serve`` with the decision and gallery caches trusting what they read for an hour.
LAUNCH = ("import adlens.decision.cache as cache, adlens.gallery.service as gallery; "
          "cache.REFRESH_SECONDS = gallery.VERSION_CHECK_SECONDS = 3600.0; "
          "from adlens.cli import main; main()")


@dataclass
class Fleet:
    """Two servers' URLs and the store they share."""

    urls: list[str]
    store: Any

    def key(self, role: str) -> str:
        from adlens.api.keys import create_key

        return create_key(self.store, role, name=f"fleet test {role}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def fleet(postgres_admin, redis_url: str, tmp_path_factory) -> Iterator[Fleet]:
    import httpx
    from cryptography.fernet import Fernet

    from adlens.store import open_store

    if not MODELS.is_dir():
        pytest.skip(f"models not found: {MODELS}")
    folder = tmp_path_factory.mktemp("fleet")
    with postgres_schema(postgres_admin) as url, redis_prefix(redis_url) as prefix:
        store = open_store(url)  # migrated here, once, before either server starts
        env = {**os.environ, "ADLENS_DATABASE_URL": url, "ADLENS_REDIS_URL": redis_url, "ADLENS_REDIS_PREFIX": prefix,
               "ADLENS_MODE": "members", "ADLENS_GALLERY_KEY": Fernet.generate_key().decode(),
               "ADLENS_DATA_DIR": str(folder / "data"), "ADLENS_API_RATE_LIMIT": "0.001",
               "ADLENS_API_RATE_BURST": str(BURST), "ADLENS_AD_DURATION": "600", "ADLENS_WORKERS": "1"}
        ports = [free_port(), free_port()]
        logs = [folder / f"server{i}.log" for i in range(2)]
        servers = []
        for port, log in zip(ports, logs, strict=True):
            with log.open("wb") as sink:
                servers.append(subprocess.Popen(
                    [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--log-level", "warning"],
                    env=env, stdout=sink, stderr=subprocess.STDOUT))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            deadline = time.monotonic() + START_TIMEOUT
            for server, base, log in zip(servers, urls, logs, strict=True):
                while True:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"adlens serve did not start:\n{log.read_text()[-3000:]}")
                    try:
                        if httpx.get(f"{base}/healthz", timeout=2).json().get("models_loaded"):
                            break
                    except (httpx.HTTPError, ValueError):
                        pass
                    time.sleep(0.2)
            yield Fleet(urls, store)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
            store.close()


def call(base: str, key: str, method: str, path: str, **kwargs: Any) -> Any:
    import httpx

    return httpx.request(method, f"{base}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=60, **kwargs)


def import_ad(base: str, key: str) -> str:
    """Import a new ad (one plain creative, no targeting: eligible for everyone) through ``base``; its id."""
    ad = f"fleet-{secrets.token_hex(3)}"
    ok, png = cv2.imencode(".png", np.full((16, 16, 3), 200, np.uint8))
    inventory = f"ads:\n  - id: {ad}\n    creatives:\n      - id: main\n        image: {ad}.png\n"
    answer = call(base, key, "POST", "/v1/ads", files=[("inventory", ("ads.yaml", inventory.encode(), "text/yaml")),
                                                        ("files", (f"{ad}.png", png.tobytes(), "image/png"))])
    assert answer.status_code == 200 and answer.json()["created"] == [ad], answer.text
    return ad


def photo(name: str) -> tuple[str, bytes, str]:
    path = need(FACES_SMALL) / name
    return path.name, path.read_bytes(), "image/jpeg"


def test_a_keys_limit_holds_across_both_servers(fleet: Fleet) -> None:
    key = fleet.key("analyst")
    statuses = [call(fleet.urls[i % 2], key, "GET", "/v1/ads").status_code for i in range(BURST + 10)]
    assert statuses.count(200) == BURST and statuses[BURST:] == [429] * 10  # N in all, not 2N
    refused = call(fleet.urls[1], key, "GET", "/v1/ads")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert call(fleet.urls[0], fleet.key("analyst"), "GET", "/v1/ads").status_code == 200  # another key's own


def test_an_ad_imported_through_one_server_is_decided_through_the_other(fleet: Fleet) -> None:
    admin, screen = fleet.key("admin"), fleet.key("screen")
    audience = {"screen": "fleet-door", "frame": {"width": 640, "height": 480},
                "faces": [{"box": [200, 100, 120, 150], "age": 30, "gender": "female"}]}

    def candidates() -> set[str]:
        answer = call(fleet.urls[1], screen, "POST", "/v1/decide", json=audience)
        assert answer.status_code == 200, answer.text
        return {c["ad"] for c in answer.json()["candidates"]}

    before = candidates()  # server B has read (and cached) the inventory
    ad = import_ad(fleet.urls[0], admin)
    assert ad not in before
    assert wait_until(lambda: ad in candidates())


def test_a_gallery_enrolment_and_erasure_through_one_server_reach_the_other(fleet: Fleet) -> None:
    admin = fleet.key("admin")
    customer = f"fleet-{secrets.token_hex(3)}"

    def identified() -> list[str | None]:
        answer = call(fleet.urls[1], admin, "POST", "/v1/gallery/identify", files=[("image", photo("obama3.jpg"))])
        assert answer.status_code == 200, answer.text
        return [face["customer"] for face in answer.json()["faces"]]

    assert identified() == [None]  # server B has built its index without the member
    enrolled = call(fleet.urls[0], admin, "POST", "/v1/gallery", data={"customer": customer, "consent": "I agree."},
                    files=[("images", photo("obama-480p.jpg")), ("images", photo("obama-720p.jpg"))])
    assert enrolled.status_code == 200, enrolled.text
    assert wait_until(lambda: identified() == [customer])  # server B's index has the member
    erased = call(fleet.urls[0], admin, "DELETE", f"/v1/gallery/{customer}")
    assert erased.status_code == 200 and erased.json()["erased"]["embeddings"] == 2
    assert wait_until(lambda: identified() == [None])


def test_a_live_screen_continues_whichever_server_its_frames_reach(fleet: Fleet) -> None:
    import_ad(fleet.urls[0], fleet.key("admin"))
    screen_key, name = fleet.key("screen"), f"fleet-screen-{secrets.token_hex(3)}"
    answers = []
    for i in range(4):
        answer = call(fleet.urls[i % 2], screen_key, "POST", "/v1/decide", data={"screen": name, "live": "true"},
                      files=[("image", photo("obama3.jpg"))])
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    assert [a["new"] for a in answers] == [True, False, False, False]
    assert len({a["decision_id"] for a in answers}) == 1 and answers[0]["ad"] is not None
    remaining = [a["remaining"] for a in answers]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] > remaining[-1]
    live = [call(url, fleet.key("analyst"), "GET", "/v1/reports/live").json()["live_screens"] for url in fleet.urls]
    assert min(live) >= 1  # each server counts the fleet's screens
