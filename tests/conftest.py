"""Test-wide set-up: real weights from ../shared/models, a private cache, shared fixtures."""

from __future__ import annotations

import os

import pytest

from helpers import FACES_SMALL, MODELS, need


def pytest_configure(config: pytest.Config) -> None:
    """Point the registry at ../shared/models and a throw-away cache before anything reads settings."""
    os.environ.setdefault("ADLENS_MODELS", str(MODELS))
    os.environ["ADLENS_OFFLINE"] = "1"
    cache = config.rootpath / ".pytest_cache" / "adlens-cache"
    os.environ.setdefault("ADLENS_CACHE_DIR", str(cache))
    os.environ["ADLENS_DATA_DIR"] = str(config.rootpath / ".pytest_cache" / "adlens-data")
    os.environ.pop("ADLENS_DATABASE_URL", None)
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
