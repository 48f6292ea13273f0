"""/v1/gallery: the consent register over HTTP (members mode), and its refusal in anonymous mode."""

from __future__ import annotations

import pytest

from helpers import FACES_SMALL, MODELS, need


def _photo(name: str) -> tuple[str, tuple[str, bytes, str]]:
    path = need(FACES_SMALL) / name
    return "images", (path.name, path.read_bytes(), "image/jpeg")


@pytest.fixture()
def members(make_api):
    if not MODELS.is_dir():
        pytest.skip(f"models not found: {MODELS}")
    return make_api(models=True, mode="members")


def test_enrol_identify_list_and_erase(members):
    enrolled = members.post("/v1/gallery", data={"customer": "barack", "consent": "I agree to be recognised.",
                                                 "expires": "2099-01-01"},
                            files=[_photo("obama-480p.jpg"), _photo("obama-720p.jpg")])
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["added"] == 2 and enrolled.json()["expires_at"].startswith("2099-01-01")
    register = members.get("/v1/gallery").json()
    assert register["mode"] == "members"
    assert register["members"] == [{"customer": "barack", "consent": "I agree to be recognised.",
                                    "consented_at": register["members"][0]["consented_at"],
                                    "expires_at": register["members"][0]["expires_at"], "expired": False,
                                    "embeddings": 2}]
    found = members.post("/v1/gallery/identify", files=[("image", _photo("obama3.jpg")[1])]).json()
    assert [f["customer"] for f in found["faces"]] == ["barack"]
    erased = members.delete("/v1/gallery/barack").json()
    assert erased["erased"]["embeddings"] == 2 and erased["erased"]["consent"] == 1
    assert members.get("/v1/gallery").json()["members"] == []
    assert members.store.footprint("barack") == {k: 0 for k in members.store.footprint("barack")}
    assert members.delete("/v1/gallery/barack").status_code == 404


def test_enrolment_is_all_or_nothing(members):
    response = members.post("/v1/gallery", data={"customer": "pair", "consent": "yes"},
                            files=[_photo("obama-480p.jpg"), _photo("two_people.jpg")])
    assert response.status_code == 422 and "two_people.jpg" in response.json()["message"]
    assert members.get("/v1/gallery").json()["members"] == []


def test_enrolment_needs_consent_text_and_photos(members):
    no_consent = members.post("/v1/gallery", data={"customer": "x", "consent": ""}, files=[_photo("obama3.jpg")])
    assert no_consent.status_code == 422
    no_photo = members.post("/v1/gallery", data={"customer": "x", "consent": "yes"})
    assert no_photo.status_code == 422


def test_anonymous_mode_refuses_enrolment(api):
    response = api.post("/v1/gallery", data={"customer": "x", "consent": "yes"},
                        files=[("images", ("a.png", b"\x89PNG....", "image/png"))])
    assert response.status_code == 403 and response.json()["error"] == "consent_required"
    identify = api.post("/v1/gallery/identify", files={"image": ("a.png", b"\x89PNG....", "image/png")})
    assert identify.status_code == 403
    assert api.get("/v1/gallery").json() == {"mode": "anonymous", "members": []}
