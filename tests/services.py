"""Test databases on the local servers: a fresh PostgreSQL schema, a private Redis key prefix."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def postgres_schema(admin: tuple[Any, str]) -> Iterator[str]:
    """The URL of a fresh schema on the ``postgres_admin`` server, dropped afterwards.

    Without a server the test is skipped, or fails when ``CI`` is set.
    """
    from sqlalchemy import text

    engine, reason = admin
    if engine is None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the PostgreSQL tests must run)")
        pytest.skip(reason)
    schema = f"adlens_t_{secrets.token_hex(6)}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # search_path puts alembic_version and every table into the test's own schema.
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@contextmanager
def redis_prefix(url: str) -> Iterator[str]:
    """A fresh key prefix on the Redis at ``url``; every key under it is deleted afterwards."""
    import redis

    name = f"adlens-test-{secrets.token_hex(4)}:"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{name}*"))
        if keys:
            client.delete(*keys)
        client.close()
