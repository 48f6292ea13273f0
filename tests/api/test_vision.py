"""/v1/analyze, /v1/decide (image, live screen, audience JSON), /v1/reward and /v1/ads with the real models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adlens.audience import FEATURE_NAMES
from adlens.events import DECISION, PLAY
from helpers import FACES_SMALL, need

SUNGLASSES = {"box": [200, 100, 120, 150], "age": 30, "gender": "female", "eyewear": 0.95, "beard": 0.01,
              "hat": 0.02, "emotion": {"happy": 0.9, "neutral": 0.1}}


def _upload_inventory(api, tmp_path: Path) -> dict:
    from adlens.demo.content import write_inventory

    inventory = write_inventory(tmp_path / "inventory")
    files = [("files", (p.name, p.read_bytes(), "image/png")) for p in sorted((inventory.parent / "creatives").iterdir())]
    response = api.post("/v1/ads", files=[("inventory", ("ads.yaml", inventory.read_bytes(), "text/yaml")), *files])
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture()
def stocked(vision_api, tmp_path):
    report = _upload_inventory(vision_api, tmp_path)
    assert len(report["created"]) == 6 and not report["problems"]
    return vision_api


def _photo(name: str) -> tuple[str, bytes, str]:
    path = need(FACES_SMALL) / name
    return path.name, path.read_bytes(), "image/jpeg"


def test_analyze_returns_faces_json(vision_api):
    response = vision_api.post("/v1/analyze", role="screen", files={"image": _photo("two_people.jpg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image"] == "two_people.jpg" and len(body["faces"]) == 2 and body["error"] is None
    face = body["faces"][0]
    assert set(face["emotion"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert {"age", "gender", "eyewear", "beard", "hat", "box", "landmarks"} <= set(face)
    assert "embedding" not in face


def test_analyze_answers_in_the_uploads_own_coordinates(vision_api):
    """A large upload is decoded at a reduced scale, yet its size and boxes are the picture's own."""
    import io

    from PIL import Image

    name, data, _ = _photo("two_people.jpg")
    small = vision_api.post("/v1/analyze", role="screen", files={"image": (name, data, "image/jpeg")}).json()
    photo = Image.open(io.BytesIO(data))
    big = io.BytesIO()
    photo.resize((photo.width * 5, photo.height * 5)).save(big, "PNG")  # ≥ 2 × ADLENS_DECODE_MAX_SIDE
    body = vision_api.post("/v1/analyze", role="screen", files={"image": ("big.png", big.getvalue(), "image/png")})
    assert body.status_code == 200, body.text
    body = body.json()
    assert (body["width"], body["height"]) == (photo.width * 5, photo.height * 5)
    assert len(body["faces"]) == len(small["faces"]) == 2
    for large, original in zip(sorted(f["box"] for f in body["faces"]), sorted(f["box"] for f in small["faces"])):
        assert large == pytest.approx([v * 5 for v in original], abs=25)


def test_imported_ads_are_listed_with_creative_urls_and_images(stocked):
    ads = stocked.get("/v1/ads", role="screen").json()["ads"]
    shades = next(ad for ad in ads if ad["id"] == "summer-shades")
    assert [c["id"] for c in shades["creatives"]] == ["main", "with-model"]
    assert shades["creatives"][1]["has_face"] is True and shades["performance"]["decisions"] == 0
    image = stocked.get(shades["creatives"][0]["url"], role="screen")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    assert stocked.get("/v1/ads/summer-shades/creatives/nope/image").status_code == 404


def test_decide_from_audience_json_then_reward(stocked):
    response = stocked.post("/v1/decide", role="screen", json={"screen": "entrance", "faces": [SUNGLASSES]})
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["ad"] == "summer-shades" and decision["screen"] == "entrance" and decision["new"] is True
    assert decision["creative_url"].startswith("/v1/ads/summer-shades/creatives/")
    assert decision["creative_spec"]["image"] == decision["creative_url"]  # a route, never the server's path
    assert decision["audience"]["faces"] == 1
    logged = stocked.store.events(kinds=[DECISION])
    assert [e.decision_id for e in logged] == [decision["decision_id"]] and logged[0].data.source == "api"
    reward = stocked.post("/v1/reward", role="screen", json={"decision_id": decision["decision_id"], "value": 5})
    assert reward.status_code == 200 and reward.json()["reward"] == pytest.approx(0.5)
    again = stocked.post("/v1/reward", role="screen", json={"decision_id": decision["decision_id"], "value": 5})
    assert again.status_code == 409 and again.json()["error"] == "conflict" and "already" in again.json()["message"]
    unknown = stocked.post("/v1/reward", role="screen", json={"decision_id": "nope", "value": 1, "kind": "click"})
    assert unknown.status_code == 404


def test_simultaneous_identical_rewards_one_200_the_rest_409(api, tmp_path):
    from adlens.ads.importer import import_inventory
    from adlens.ads.loading import parse_inventory
    from adlens.crypto import EmbeddingCipher

    (tmp_path / "creative.png").write_bytes(_png())
    inventory = parse_inventory({"ads": [{"id": "shades", "creatives": [{"id": "a", "image": "creative.png"}]}]},
                                tmp_path, "test inventory")
    import_inventory(api.store, inventory, cipher=EmbeddingCipher(api.service.settings))
    decision = api.post("/v1/decide", role="screen", json={"faces": [SUNGLASSES]}).json()
    body = {"decision_id": decision["decision_id"], "value": 5}
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: api.post("/v1/reward", role="screen", json=body).status_code, range(8)))
    assert codes == [200] + [409] * 7
    assert api.store.arm_stats(["shades"], dims=len(FEATURE_NAMES))["shades"].pulls == 1
    assert api.post("/v1/reward", role="screen", json=body).status_code == 409


def _png() -> bytes:
    import cv2
    import numpy as np

    return cv2.imencode(".png", np.full((90, 160, 3), 128, np.uint8))[1].tobytes()


@pytest.mark.parametrize(("audience", "where"), [
    ({"faces": [{"box": [0, 0, 10]}]}, "faces.0.box"),
    ({"faces": [{**SUNGLASSES, "emotion": {"joy": 1.0}}]}, "faces.0.emotion"),
    ({"faces": [SUNGLASSES, {"box": [1, 1, 50, 50]}]}, "given for 1 of 2 faces"),
    ({"faces": [], "colour": "red"}, "colour"),
    ({"faces": [{"box": [0, 0, 10, 10], "age": -3}]}, "faces.0.age"),
    ({}, "faces: Field required"),
    ({"screen": "entrance"}, "faces: Field required"),
])
def test_bad_audience_json_is_422_naming_the_field(api, audience, where):
    response = api.post("/v1/decide", role="screen", json=audience)
    assert response.status_code == 422 and where in response.json()["message"]
    assert api.store.events(kinds=[DECISION]) == []  # nothing logged, nothing counted
    assert "adlens_decisions_total{" not in api.get("/metrics", role="analyst").text


def test_an_empty_audience_is_a_decision(api):
    response = api.post("/v1/decide", role="screen", json={"faces": []})
    assert response.status_code == 200 and response.json()["audience"]["faces"] == 0
    assert len(api.store.events(kinds=[DECISION])) == 1


def test_decide_from_an_image(stocked):
    response = stocked.post("/v1/decide", role="screen", files={"image": _photo("obama-480p.jpg")},
                            data={"screen": "window"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["screen"] == "window" and body["audience"]["faces"] == 1 and body["ad"] is not None


def test_live_screen_keeps_the_ad_until_it_ends(stocked):
    photo = {"image": _photo("obama-480p.jpg")}
    first = stocked.post("/v1/decide", role="screen", files=photo, data={"screen": "lobby", "live": "true"}).json()
    second = stocked.post("/v1/decide", role="screen", files={"image": _photo("obama-480p.jpg")},
                          data={"screen": "lobby", "live": "true"}).json()
    assert first["new"] is True and second["new"] is False
    assert second["decision_id"] == first["decision_id"] and 0 < second["remaining"] <= first["remaining"]
    decisions = stocked.store.events(kinds=[DECISION])
    assert len(decisions) == 1 and decisions[0].data.source == "live"
    stocked.service.screens.close()  # the screen leaves: its play is logged
    plays = stocked.store.events(kinds=[PLAY])
    assert len(plays) == 1 and plays[0].decision_id == first["decision_id"]


def test_ads_import_reports_problems_and_remove(stocked):
    bad = b"ads:\n  - id: broken\n    creatives: []\n"
    report = stocked.post("/v1/ads", files={"inventory": ("bad.yaml", bad, "text/yaml")}).json()
    assert report["created"] == [] and report["problems"]
    assert stocked.delete("/v1/ads/tees").json() == {"removed": "tees"}
    assert stocked.get("/v1/ads/tees").status_code == 404
