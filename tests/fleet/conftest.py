"""Fleet test helpers: settings and a client on the test Redis (``redis_url`` and ``prefix``: tests/conftest.py)."""

from __future__ import annotations

import pytest


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
