"""Alembic migrations of the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, DateTime, column, insert, inspect, table, text
from sqlalchemy.exc import DBAPIError

from adlens.errors import StoreError
from adlens.products.types import Product
from adlens.store import Store, open_store
from adlens.store.models import Base

TABLES = {
    "products", "product_aspects", "customers", "feedback", "segments",
    "gallery_members", "face_embeddings", "ads", "creatives", "events", "bandit_arms", "api_keys",
    "uplift_campaigns", "uplift_scores", "media_folders", "gallery_changes",
}
HEAD = "0007"  # the newest revision


def _tables(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_migrate_from_empty(store_url: str) -> None:
    bare = Store(store_url)
    assert bare.revision() is None
    bare.migrate()
    assert bare.revision() == HEAD
    assert _tables(bare) == TABLES | {"alembic_version"}
    bare.close()


def test_remigrate_is_idempotent_and_keeps_data(store: Store, store_url: str) -> None:
    store.upsert_product(Product("p1", "kept"))
    store.migrate()
    with open_store(store_url) as again:
        assert again.revision() == HEAD
        assert again.get_product("p1").name == "kept"


def test_schema_matches_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_drops_everything(store: Store) -> None:
    config = store.alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert _tables(store) <= {"alembic_version"}
    store.migrate()
    assert _tables(store) == TABLES | {"alembic_version"}


def test_0005_keeps_the_first_of_duplicate_rewards(store_url: str) -> None:
    bare = Store(store_url)
    config = bare.alembic_config()
    with bare.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    # The table as 0004 left it, written as an older adlens did: duplicate rewards raced past its check.
    events = table("events", column("at", DateTime(timezone=True)), column("kind"), column("decision_id"),
                   column("data", JSON))
    rows = [("decision", None), ("reward", "dwell"), ("reward", "dwell"), ("reward", "click"), ("reward", "dwell"),
            ("play", None)]
    with bare.engine.begin() as connection:
        connection.execute(insert(events), [
            {"at": datetime(2026, 11, 1, tzinfo=UTC), "kind": kind, "decision_id": "d1",
             "data": {} if reward is None else {"kind": reward}} for kind, reward in rows])
    bare.migrate()
    assert bare.revision() == HEAD
    with bare.engine.connect() as connection:
        kept = connection.execute(text("SELECT id, kind, reward_kind FROM events ORDER BY id")).all()
    assert [(i, k, r) for i, k, r in kept] == [(1, "decision", None), (2, "reward", "dwell"), (4, "reward", "click"),
                                               (6, "play", None)]
    with pytest.raises(DBAPIError, match="append-only"), bare.engine.begin() as connection:
        connection.execute(text("UPDATE events SET value = 1"))
    bare.close()


def test_newer_revision_is_refused(store: Store, store_url: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="9999.*upgrade adlens"):
        open_store(store_url)


def test_foreign_schema_is_a_store_error(store_url: str) -> None:
    bare = Store(store_url)
    with bare.engine.begin() as connection:
        connection.execute(text("CREATE TABLE products (id INTEGER PRIMARY KEY)"))
    with pytest.raises(StoreError, match="cannot use the store"):
        bare.migrate()
    bare.close()


def test_0006_makes_relative_photo_paths_absolute(store_url: str, tmp_path, monkeypatch, caplog) -> None:
    # Rows as an import run from another folder left them before 0006.
    shop = tmp_path / "work" / "shop"
    shop.mkdir(parents=True)
    (shop / "a.png").write_bytes(b"photo")
    monkeypatch.chdir(tmp_path / "work")
    bare = Store(store_url)
    config = bare.alembic_config()
    with bare.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        for pid, image in (("found", "shop/a.png"), ("lost", "elsewhere/b.png"), ("absolute", "/srv/c.png")):
            connection.execute(text("INSERT INTO products (id, name, attributes, image, predicted, created_at, "
                                    "updated_at) VALUES (:id, '', '{}', :image, '{}', '2026-01-01', '2026-01-01')"),
                               {"id": pid, "image": image})
    with caplog.at_level("WARNING", logger="adlens.store"):
        bare.migrate()
    assert bare.revision() == HEAD
    images = {p.id: p.image for p in bare.get_products(["found", "lost", "absolute"])}
    assert images == {"found": str((shop / "a.png").resolve()), "lost": "elsewhere/b.png", "absolute": "/srv/c.png"}
    assert "1 product photo path(s)" in caplog.text and "lost" in caplog.text
    bare.close()
