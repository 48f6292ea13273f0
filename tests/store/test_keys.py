"""API keys in the store: add, find by hash, list, revoke; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

import adlens.store.keys as keys_module
from adlens.errors import InvalidInputError, NotFoundError
from adlens.store import Store
from adlens.store.keys import ROLES, ApiKey

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The store's clock: each call returns the next minute after T0 (``clock`` lists the times handed out)."""
    handed: list[datetime] = []

    def tick() -> datetime:
        handed.append(T0 + timedelta(minutes=len(handed)))
        return handed[-1]

    monkeypatch.setattr(keys_module, "utcnow", tick)
    return handed


@pytest.mark.parametrize("role", ROLES)
def test_add_and_find_by_hash(store: Store, clock: list[datetime], role: str) -> None:
    added = store.add_api_key("k1", digest("secret"), role, "front door")
    assert added == ApiKey("k1", role, "front door", T0, None) and added.active
    found = store.api_key_by_hash(digest("secret"))
    assert found == added


@pytest.mark.parametrize(
    ("role", "name", "message"),
    [
        ("root", "", r"unknown role 'root': choose one of admin, screen, analyst"),
        ("Admin", "", "unknown role 'Admin'"),  # roles are exact
        ("", "", "unknown role ''"),
        ("admin", "n" * 129, "at most 128 characters"),
    ],
)
def test_add_refuses(store: Store, role: str, name: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        store.add_api_key("k1", digest("s"), role, name)
    assert store.list_api_keys() == []


def test_name_of_128_characters_is_kept(store: Store) -> None:
    assert store.add_api_key("k1", digest("s"), "screen", "n" * 128).name == "n" * 128


@pytest.mark.parametrize(("key_id", "secret"), [("k1", "other"), ("k2", "s")])  # same id, or same secret
def test_duplicates_are_refused(store: Store, key_id: str, secret: str) -> None:
    store.add_api_key("k1", digest("s"), "admin")
    with pytest.raises(IntegrityError):
        store.add_api_key(key_id, digest(secret), "screen")
    assert [k.id for k in store.list_api_keys()] == ["k1"]


@pytest.mark.parametrize("secret_hash", [digest("never stored"), "", "not even hex"])
def test_unknown_hash_is_none(store: Store, secret_hash: str) -> None:
    store.add_api_key("k1", digest("s"), "admin")
    assert store.api_key_by_hash(secret_hash) is None


def test_list_is_oldest_first_and_keeps_revoked_keys(store: Store, clock: list[datetime]) -> None:
    assert store.list_api_keys() == []
    for key_id, role in (("b", "screen"), ("a", "analyst"), ("c", "admin")):
        store.add_api_key(key_id, digest(key_id), role)
    store.revoke_api_key("a")
    listed = store.list_api_keys()
    assert [(k.id, k.role, k.created_at) for k in listed] == [
        ("b", "screen", T0), ("a", "analyst", T0 + timedelta(minutes=1)), ("c", "admin", T0 + timedelta(minutes=2)),
    ]
    assert [k.active for k in listed] == [True, False, True]


def test_keys_made_in_the_same_instant_list_by_id(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_module, "utcnow", lambda: T0)
    for key_id in ("z", "m", "a"):
        store.add_api_key(key_id, digest(key_id), "screen")
    assert [k.id for k in store.list_api_keys()] == ["a", "m", "z"]


def test_revoke_keeps_the_key_listed_and_the_first_revocation_time(store: Store, clock: list[datetime]) -> None:
    store.add_api_key("k1", digest("s"), "admin")
    revoked = store.revoke_api_key("k1")
    assert revoked.revoked_at == T0 + timedelta(minutes=1) and not revoked.active
    again = store.revoke_api_key("k1")  # revoking twice changes nothing
    assert again.revoked_at == revoked.revoked_at
    assert store.api_key_by_hash(digest("s")) == revoked  # still found: the caller decides it is not active


@pytest.mark.parametrize("key_id", ["nope", "", "K1"])
def test_revoke_unknown_key(store: Store, key_id: str) -> None:
    store.add_api_key("k1", digest("s"), "admin")
    with pytest.raises(NotFoundError, match=f"unknown API key id: {key_id!r}"):
        store.revoke_api_key(key_id)
    assert store.list_api_keys()[0].active


def test_one_transaction_for_several_calls(store: Store) -> None:
    with store.transaction() as session:
        store.add_api_key("k1", digest("s"), "admin", session=session)
        store.revoke_api_key("k1", session=session)
        found = store.api_key_by_hash(digest("s"), session=session)
        assert found is not None and found.revoked_at is not None
    assert not store.list_api_keys()[0].active
