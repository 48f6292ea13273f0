"""The ad inventory part of the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from adlens.ads.inventory import Ad, validate_ad
from adlens.errors import InvalidInputError, NotFoundError
from adlens.store import Store
from adlens.store.models import BanditArmRow, CreativeRow


def make_ad(ad_id: str = "shades", **fields: Any) -> Ad:
    creatives = fields.pop("creatives", [
        {"id": "a", "image": "/ads/a.png", "caption": "été ✓"},
        {"id": "b", "image": "/ads/b.png", "model_face": "/ads/face.jpg", "face_sha256": "f" * 64},
    ])
    return validate_ad({"id": ad_id, "name": "Shades", "products": [1], "categories": ["alcohol"],
                        "frequency_cap": {"count": 3, "hours": 24}, "targeting": {"age": [18, 40]},
                        "creatives": creatives, **fields}, restricted_categories=["alcohol"])


def records(ad: Ad, tokens: dict[str, bytes] | None = None) -> list[tuple[str, int, dict, bytes | None]]:
    tokens = {"b": b"token-b"} if tokens is None else tokens
    return [(c.id, i, c.model_dump(mode="json"), tokens.get(c.id)) for i, c in enumerate(ad.creatives)]


def upsert(store: Store, ad: Ad, tokens: dict[str, bytes] | None = None) -> str:
    return store.upsert_ad(ad.spec(), records(ad, tokens))


def test_upsert_get_and_unchanged(store: Store) -> None:
    ad = make_ad()
    assert upsert(store, ad) == "created"
    assert store.get_ad("shades") == ad
    assert [c.has_face for c in store.get_ad("shades").creatives] == [False, True]
    assert store.get_ad("shades").restricted_by == ["alcohol"]
    version = store.ads_version()
    assert upsert(store, ad) == "unchanged"
    assert store.ads_version() == version


@pytest.mark.parametrize(("changes", "tokens"), [
    ({"priority": 5}, None),
    ({"active": False}, None),
    ({"creatives": [{"id": "a", "image": "/ads/a.png"}]}, None),
    ({}, {"b": b"another token"}),
])
def test_any_change_updates(store: Store, changes: dict, tokens: dict | None) -> None:
    upsert(store, make_ad())
    created_version = store.ads_version()
    changed = make_ad(**changes)
    assert upsert(store, changed, tokens) == "updated"
    assert store.get_ad("shades") == changed
    assert store.ads_version() != created_version
    with store.transaction() as session:
        assert session.query(CreativeRow).count() == len(changed.creatives)


def test_list_and_active_only(store: Store) -> None:
    for ad_id, active in (("b-ad", True), ("a-ad", False), ("c-ad", True)):
        upsert(store, make_ad(ad_id, active=active))
    assert [ad.id for ad in store.list_ads()] == ["a-ad", "b-ad", "c-ad"]
    assert [ad.id for ad in store.list_ads(active_only=True)] == ["b-ad", "c-ad"]
    assert [c.id for c in store.list_ads()[0].creatives] == ["a", "b"]


def test_remove_cascades_creatives_and_bandit_arm(store: Store) -> None:
    upsert(store, make_ad())
    upsert(store, make_ad("other"))
    with store.transaction() as session:
        session.add(BanditArmRow(ad_id="shades", dims=1, a_matrix=b"\0" * 8, b_vector=b"\0" * 8))
    store.remove_ad("shades")
    with pytest.raises(NotFoundError, match="unknown ad 'shades'"):
        store.get_ad("shades")
    with pytest.raises(NotFoundError, match="unknown ad 'shades'"):
        store.remove_ad("shades")
    with store.transaction() as session:
        assert session.query(BanditArmRow).count() == 0
        assert {c.ad_id for c in session.query(CreativeRow)} == {"other"}


def test_creative_faces_and_known_photos(store: Store) -> None:
    upsert(store, make_ad("one"), {"b": b"token-1"})
    upsert(store, make_ad("two", creatives=[{"id": "x", "image": "/x.png"}]), {})
    upsert(store, make_ad("three", creatives=[
        {"id": "p", "image": "/p.png", "model_face": "/p.jpg", "face_sha256": "1" * 64},
        {"id": "q", "image": "/q.png", "model_face": "/q.jpg", "face_sha256": "2" * 64},
    ]), {"p": b"token-p", "q": b"token-q"})
    assert store.creative_faces(["one", "two", "three", "unknown"]) == {
        "one": {"b": b"token-1"}, "three": {"p": b"token-p", "q": b"token-q"}}
    assert store.creative_faces([]) == {}
    assert store.model_face_tokens() == {"f" * 64: b"token-1", "1" * 64: b"token-p", "2" * 64: b"token-q"}


def test_ads_version_changes_on_remove(store: Store) -> None:
    assert store.ads_version() == "0:-"
    upsert(store, make_ad())
    upsert(store, make_ad("other"))
    version = store.ads_version()
    store.remove_ad("shades")
    assert store.ads_version() != version


def test_generation_moves_only_when_a_change_commits(store: Store) -> None:
    seen = [store.generation("ads")]

    def moved() -> bool:
        seen.append(store.generation("ads"))
        return seen[-1] != seen[-2]

    upsert(store, make_ad())
    assert moved()
    upsert(store, make_ad())  # unchanged: nothing written
    assert not moved()
    with pytest.raises(RuntimeError), store.transaction() as session:
        store.upsert_ad(make_ad(priority=5).spec(), records(make_ad()), session=session)
        raise RuntimeError("rolled back")
    assert not moved()
    arms = store.generation("arms")
    store.remove_ad("shades")
    assert moved() and store.generation("arms") != arms  # the arm went with the ad


@pytest.mark.parametrize(("spec", "creatives", "message"), [
    ({"id": ""}, [("a", 0, {}, None)], "ad id must be a non-empty string"),
    ({"id": "x" * 129}, [("a", 0, {}, None)], "longer than 128"),
    ({"id": "ad"}, [], "at least one creative"),
    ({"id": "ad"}, [("a", 0, {}, None), ("a", 1, {}, None)], "two creatives with the same id"),
    ({"id": "ad"}, [("", 0, {}, None)], "creative id must be"),
    ({"id": "ad", "name": float("nan")}, [("a", 0, {}, None)], "not storable as JSON"),
])
def test_invalid_upserts_are_refused(store: Store, spec: dict, creatives: list, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        store.upsert_ad(spec, creatives)
    assert store.list_ads() == []
