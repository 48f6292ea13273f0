"""The fleet's Redis client: none without ADLENS_REDIS_URL, clear errors for a bad one, outages logged once."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from adlens.errors import StoreError
from adlens.fleet.client import RETRY_SECONDS, Outage, connect
from adlens.settings import Settings


def test_no_url_no_fleet_and_no_redis_import() -> None:
    assert connect(Settings(redis_url="")) is None
    code = ("import sys; from adlens.api.service import Service; from adlens.fleet.client import connect; "
            "from adlens.settings import Settings; connect(Settings()); print('redis' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"ADLENS_REDIS_URL": "", "PATH": "", "PYTHONPATH": ":".join(sys.path)})
    assert found.stdout.strip() == "False"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://127.0.0.1:notaport/0"])
def test_a_bad_url_is_a_clear_error(url: str) -> None:
    pytest.importorskip("redis")
    with pytest.raises(StoreError, match="ADLENS_REDIS_URL"):
        connect(Settings(redis_url=url))


def test_keys_carry_the_prefix(fleet) -> None:
    assert fleet.key("rate", "key", "k1") == f"{fleet.prefix}rate:key:k1"
    assert fleet.client.ping()


def test_an_outage_is_logged_once_and_retried_later(caplog) -> None:
    now = [0.0]
    outage = Outage("things", "doing without", clock=lambda: now[0])
    assert outage.usable()
    with caplog.at_level(logging.WARNING, logger="adlens.fleet"):
        outage.failed(OSError("refused"))
        outage.failed(OSError("refused"))
        assert not outage.usable()
        now[0] = RETRY_SECONDS
        assert outage.usable()
        outage.succeeded()
        outage.succeeded()
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "unreachable for things (refused): doing without" in messages[0] and "back for things" in messages[1]
