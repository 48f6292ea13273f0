"""Fleet test helpers: the local Redis (``ADLENS_TEST_REDIS_URL``), a private key prefix per test."""

from __future__ import annotations

import os
import secrets

import pytest

REDIS_TEST_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis's URL; the test is skipped without a server, or fails when ``CI`` is set."""
    redis = pytest.importorskip("redis") if not os.environ.get("CI") else __import__("redis")
    url = os.environ.get("ADLENS_TEST_REDIS_URL", REDIS_TEST_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        reason = f"Redis at {url} is unreachable: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the fleet tests must run)")
        pytest.skip(reason)
    finally:
        client.close()
    return url


@pytest.fixture
def prefix(redis_url: str):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    name = f"adlens-test-{secrets.token_hex(4)}:"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def settings_of(redis_url: str, prefix: str):
    """``settings_of(**overrides)``: :class:`~adlens.settings.Settings` on the test Redis and prefix."""
    from adlens.settings import Settings

    def build(**overrides):
        return Settings(redis_url=redis_url, redis_prefix=prefix, **overrides)

    return build


@pytest.fixture
def fleet(settings_of):
    """A :class:`~adlens.fleet.client.Fleet` on the test Redis, closed afterwards."""
    from adlens.fleet.client import connect

    opened = connect(settings_of())
    yield opened
    opened.close()


@pytest.fixture
def dead_fleet():
    """A :class:`~adlens.fleet.client.Fleet` whose Redis is unreachable (a closed local port)."""
    pytest.importorskip("redis")
    from adlens.fleet.client import connect
    from adlens.settings import Settings

    opened = connect(Settings(redis_url="redis://127.0.0.1:9/0", redis_prefix="adlens-dead:"))
    yield opened
    opened.close()
