"""/v1/catalog, /v1/feedback, /v1/customers (recommendations, erasure) and /v1/segments."""

from __future__ import annotations

import pytest

from helpers import MODELS


@pytest.fixture()
def shop(make_api, tmp_path):
    if not MODELS.is_dir():
        pytest.skip(f"models not found: {MODELS}")
    from adlens.demo.content import write_catalogue

    api = make_api()
    catalogue = write_catalogue(tmp_path / "shop")
    photos = [("images", (p.name, p.read_bytes(), "image/png")) for p in sorted((catalogue.parent / "products").iterdir())]
    response = api.post("/v1/catalog", files=[("file", ("catalogue.csv", catalogue.read_bytes(), "text/csv")), *photos])
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 14 and not response.json()["problems"]
    return api


def test_catalogue_list_show_aspects_and_photo(shop):
    listing = shop.get("/v1/catalog", role="analyst", params={"search": "sunglasses", "limit": 2}).json()
    assert listing["total"] == 3 and len(listing["items"]) == 2
    first = listing["items"][0]
    assert first["image_url"] == f"/v1/catalog/{first['id']}/image"
    assert shop.get(first["image_url"], role="analyst").content[:4] == b"\x89PNG"
    details = shop.get(f"/v1/catalog/{first['id']}", role="analyst").json()
    assert details["attributes"]["articleType"] == "Sunglasses"
    aspects = shop.get(f"/v1/catalog/{first['id']}/aspects", role="analyst").json()
    assert aspects["colours"] and aspects["tokens"] and aspects["embedding"]["dimensions"] > 0
    assert shop.get("/v1/catalog/nope").status_code == 404


def test_feedback_recommendations_segments_and_erasure(shop):
    for customer, liked in (("ann", ["sg-black", "sg-brown"]), ("bob", ["cap-blue", "cap-red"]),
                            ("cy", ["sg-red"]), ("dee", ["cap-green"])):
        for product in liked:
            response = shop.post("/v1/feedback", json={"customer": customer, "product": product,
                                                       "feedback": "like", "create_customer": True})
            assert response.status_code == 200, response.text
    assert shop.post("/v1/feedback", json={"customer": "zed", "product": "sg-black", "feedback": "like"}
                     ).status_code == 404
    assert shop.post("/v1/feedback", json={"customer": "ann", "product": "sg-black", "feedback": "meh"}
                     ).status_code == 422
    recommended = shop.get("/v1/customers/ann/recommendations", role="analyst", params={"k": 3}).json()
    assert recommended["cold_start"] is False and recommended["items"][0]["product"] == "sg-red"
    assert recommended["items"][0]["reasons"]
    made = shop.post("/v1/segments", json={"k": 2})
    assert made.status_code == 200 and made.json()["n_segments"] == 2
    assert len(shop.get("/v1/segments", role="analyst").json()["segments"]) == 2
    customers = {c["id"]: c for c in shop.get("/v1/customers", role="analyst").json()["customers"]}
    assert customers["ann"]["feedback_count"] == 2 and customers["ann"]["segment"] is not None
    profile = shop.get("/v1/customers/ann", role="analyst").json()["profile"]
    assert profile["likes"]
    erased = shop.delete("/v1/customers/ann").json()
    assert erased["erased"]["feedback"] == 2
    assert shop.get("/v1/customers/ann").status_code == 404
