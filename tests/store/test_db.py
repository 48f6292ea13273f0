"""The Store's engine, transactions, errors and timestamps, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import make_url

from adlens.errors import StoreError
from adlens.products.types import LIKE, Feedback, Product
from adlens.settings import get_settings
from adlens.store import Store, open_store
from adlens.store.models import ProductRow


def test_store_url_defaults_to_settings_and_touches_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ADLENS_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        store = Store()
        assert store.url == make_url(get_settings().store_url)
        assert str(tmp_path / "data" / "adlens.db") in str(store.url)
        assert not (tmp_path / "data").exists()
    finally:
        get_settings.cache_clear()


def test_open_store_creates_the_sqlite_folder(tmp_path) -> None:
    path = tmp_path / "a" / "b" / "store.db"
    with open_store(f"sqlite:///{path}") as store:
        assert store.count_products() == 0
    assert path.is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://adlens:s3cret@127.0.0.1:1/none?connect_timeout=2", "server running"),
        ("nosuchdialect://x/y", "invalid store URL"),
    ],
)
def test_unusable_url_is_a_store_error(url: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(StoreError, match=message) as caught:
        open_store(url)
    assert "s3cret" not in caught.value.message
    assert time.monotonic() - started < 5


def test_unreachable_store_masks_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql+psycopg://adlens:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "adlens:***@127.0.0.1:1/none" in caught.value.message


def test_sqlite_folder_that_cannot_exist(tmp_path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the folder"):
        open_store(f"sqlite:///{tmp_path / 'file' / 'store.db'}")


def test_transaction_commits(store: Store) -> None:
    with store.transaction() as session:
        store.upsert_product(Product("p1"), session)
        store.upsert_product(Product("p2"), session)
    assert store.has_products(["p1", "p2", "p3"]) == {"p1", "p2"}


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError, match="interrupted"):
        with store.transaction() as session:
            store.upsert_product(Product("p1", "half-written"), session)
            session.flush()
            raise RuntimeError("import interrupted")
    assert store.count_products() == 0
    with store.transaction() as session:
        assert session.get(ProductRow, "p1") is None


@pytest.mark.parametrize(
    "at",
    [
        datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        datetime(2024, 3, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 3, 1, 12, 30, 15, 123456),  # naive: taken as UTC
    ],
)
def test_timestamps_round_trip_aware_in_utc(store: Store, at: datetime) -> None:
    store.add_customer("c1")
    store.upsert_product(Product("p1"))
    store.add_feedback(Feedback("c1", "p1", LIKE, at))
    (stored,) = store.feedback_for("c1")
    assert stored.at.tzinfo is not None and stored.at.utcoffset() == timedelta(0)
    assert stored.at == datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert store.get_product("p1").created_at.tzinfo is not None


def test_catalogue_version_follows_changes(store: Store) -> None:
    assert store.catalogue_version() == "0:-"
    store.upsert_product(Product("p0"))
    versions = [store.catalogue_version()]
    store.upsert_product(Product("p1", "one"))
    versions.append(store.catalogue_version())
    store.upsert_product(Product("p1", "one"))  # unchanged: same version
    assert store.catalogue_version() == versions[-1]
    store.upsert_product(Product("p1", "renamed"))
    versions.append(store.catalogue_version())
    store.remove_product("p0")
    versions.append(store.catalogue_version())
    assert len(set(versions)) == len(versions)
