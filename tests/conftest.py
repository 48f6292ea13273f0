"""Test-wide set-up: real weights from ../shared/models, a private cache, shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import FACES_SMALL, MODELS, need
from services import postgres_schema, redis_prefix


def pytest_configure(config: pytest.Config) -> None:
    """Point the registry at ../shared/models and a throw-away cache before anything reads settings."""
    os.environ.setdefault("ADLENS_MODELS", str(MODELS))
    os.environ["ADLENS_OFFLINE"] = "1"
    cache = config.rootpath / ".pytest_cache" / "adlens-cache"
    os.environ.setdefault("ADLENS_CACHE_DIR", str(cache))
    os.environ["ADLENS_DATA_DIR"] = str(config.rootpath / ".pytest_cache" / "adlens-data")
    os.environ.pop("ADLENS_DATABASE_URL", None)
    # Commands run in-process unless a test asks for workers (tests/test_workers.py, the --workers tests):
    # a pool per CLI call would spend the suite's time starting processes.
    os.environ["ADLENS_WORKERS"] = "1"
    from adlens.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture(scope="session")
def faces_small() -> Path:
    return need(FACES_SMALL)


@pytest.fixture(scope="session")
def analyzer():
    """One loaded Analyzer (YuNet, embeddings, default attribute models) for the session."""
    need(MODELS)
    from adlens.pipeline import Analyzer

    return Analyzer(embed=True).load()


# --- the product store (tests/store) --------------------------------------------

POSTGRES_TEST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_admin():
    """An autocommit engine on the test PostgreSQL server, or ``(None, why not)``.

    The server is ``ADLENS_TEST_POSTGRES_URL`` (default: local trust auth); it is
    probed once per session so an absent server costs one refused connection.
    """
    from sqlalchemy import create_engine, text

    url = os.environ.get("ADLENS_TEST_POSTGRES_URL", POSTGRES_TEST_URL)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means: no server to test against
        engine.dispose()
        yield None, f"PostgreSQL at {engine.url.render_as_string()} is unreachable: {error}"
        return
    yield engine, ""
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path):
    """A URL of an empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards.

    Without a PostgreSQL server the postgresql case is skipped, or fails when ``CI`` is set.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_admin")) as url:
        yield url


@pytest.fixture
def store(store_url: str):
    """A migrated :class:`adlens.store.Store` on ``store_url``, closed afterwards."""
    from adlens.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture()
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh ``ADLENS_DATA_DIR`` (so a fresh embedded store) for the test, settings re-read around it."""
    from adlens.settings import get_settings

    folder = tmp_path / "data"
    monkeypatch.setenv("ADLENS_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


# --- Redis (tests/fleet, a fleet of API servers) ---------------------------------------

REDIS_TEST_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis's URL; the test is skipped without a server, or fails when ``CI`` is set."""
    if not os.environ.get("CI"):  # under CI a missing redis-py fails the test at its import
        pytest.importorskip("redis")
    import redis

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
    with redis_prefix(redis_url) as name:
        yield name


# Fleet fixtures (tests/fleet, tests/api/test_shared_limits.py): settings and a client on the test Redis.

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


# --- Ray (tests/batch, tests/cli/test_analyze_ray.py) -------------------------------

@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs for the session (skipped without the ray extra, except under CI=true)."""
    from raylocal import ray_session

    yield from ray_session()
