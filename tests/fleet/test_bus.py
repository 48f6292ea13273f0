"""Store changes over Redis publish/subscribe: a commit in one worker moves the generations of the others."""

from __future__ import annotations

import logging

import pytest

from adlens.fleet.bus import GenerationBus
from adlens.store.base import TOPICS, StoreBase
from helpers import wait_until

#: Seconds a test waits for a subscription (a wait, not a timing assert: it returns as soon as it has).
WAIT = 10.0


def commit(store: StoreBase, *topics: str) -> None:
    """A transaction that changes ``topics``."""
    with store.transaction() as session:
        session.connection().exec_driver_sql("SELECT 1")
        store._changes(session, *topics)


@pytest.fixture
def workers(fleet, tmp_path):
    """Two stores on one database, each with its bus, both subscribed."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    stores = [StoreBase(url), StoreBase(url)]
    buses = [GenerationBus(fleet, store).start() for store in stores]
    assert all(bus.subscribed.wait(WAIT) for bus in buses)
    yield list(zip(stores, buses, strict=True))
    for bus in buses:
        bus.close()
    for store in stores:
        store.close()


@pytest.mark.parametrize("topics", [("ads",), ("ads", "arms"), ("gallery",), ("segments", "uplift"), ("keys",)])
def test_a_commit_moves_the_other_workers_generations_at_once(workers, topics: tuple[str, ...]) -> None:
    (a, bus_a), (b, bus_b) = workers
    before = {topic: b.generation(topic) for topic in TOPICS}
    own = {topic: a.generation(topic) for topic in TOPICS}
    commit(a, *topics)
    assert wait_until(lambda: bus_b.received == 1)
    assert {t for t in TOPICS if b.generation(t) != before[t]} == set(topics)
    assert {t for t in TOPICS if a.generation(t) != own[t]} == set(topics)  # moved by its own commit
    assert bus_a.received == 0  # its own notice is not applied again


def test_a_commit_without_changes_publishes_nothing(workers) -> None:
    (a, _), (b, bus_b) = workers
    commit(a)
    commit(a, "ads")
    assert wait_until(lambda: bus_b.received >= 1)
    assert bus_b.received == 1


def test_subscribing_moves_every_generation(fleet, tmp_path) -> None:
    store = StoreBase(f"sqlite:///{tmp_path / 'store.db'}")
    assert {store.generation(topic) for topic in TOPICS} == {0}
    bus = GenerationBus(fleet, store).start()
    try:
        assert bus.subscribed.wait(WAIT)
        assert 0 not in {store.generation(topic) for topic in TOPICS}
    finally:
        bus.close()
    assert store.on_change is None


def test_a_malformed_notice_is_ignored_and_logged(workers, fleet, caplog) -> None:
    (_, _), (b, bus_b) = workers
    before = {topic: b.generation(topic) for topic in TOPICS}
    with caplog.at_level(logging.WARNING, logger="adlens.fleet"):
        fleet.client.publish(bus_b.channel, b"not json")
        fleet.client.publish(bus_b.channel, b'{"from": "x", "topics": ["ads"]}')
        assert wait_until(lambda: bus_b.received == 1)
    assert "malformed store change notice" in caplog.text
    assert b.generation("ads") != before["ads"] and b.generation("arms") == before["arms"]


def test_unreachable_redis_never_fails_a_commit(dead_fleet, tmp_path, caplog) -> None:
    store = StoreBase(f"sqlite:///{tmp_path / 'store.db'}")
    bus = GenerationBus(dead_fleet, store).start()
    try:
        with caplog.at_level(logging.WARNING, logger="adlens.fleet"):
            before = store.generation("ads")
            commit(store, "ads")
            commit(store, "ads")
            assert store.generation("ads") != before
            assert wait_until(lambda: "receiving store change notices" in caplog.text)
        assert not bus.subscribed.is_set()
        assert caplog.text.count("Redis is unreachable for store change notices") == 1
    finally:
        bus.close()
        store.close()


def test_listeners_hear_every_notice_and_a_failing_one_stops_nothing(workers, caplog) -> None:
    (a, _), (_, bus_b) = workers
    heard: list[frozenset[str]] = []

    def broken(_topics: frozenset[str]) -> None:
        raise RuntimeError("a bug")

    bus_b.listeners += [broken, heard.append]
    with caplog.at_level(logging.ERROR, logger="adlens.fleet"):
        commit(a, "gallery")
        commit(a, "ads", "arms")
        assert wait_until(lambda: len(heard) == 2)
    assert heard == [frozenset({"gallery"}), frozenset({"ads", "arms"})]
    assert "a store change listener failed" in caplog.text



def test_announce_publishes_without_listening(workers, settings_of, tmp_path) -> None:
    from adlens.fleet.bus import announce
    from adlens.settings import Settings

    (_, _), (b, bus_b) = workers
    command = StoreBase(f"sqlite:///{tmp_path / 'store.db'}")  # a CLI process on the same database
    try:
        assert announce(command, Settings(redis_url="")) is None and command.on_change is None
        bus = announce(command, settings_of())
        assert bus is not None and command.on_change == bus.publish and bus._thread is None  # nobody listens
        before = b.generation("gallery")
        commit(command, "gallery")
        assert wait_until(lambda: bus_b.received == 1)
        assert b.generation("gallery") != before
    finally:
        command.close()


def test_a_cli_command_announces_its_changes_to_the_servers(fleet, settings_of, data_dir, monkeypatch) -> None:
    """``adlens ads import`` in a fleet: a server's bus hears the ads change at once, not after its refresh."""
    from typer.testing import CliRunner

    from adlens.cli.ads import app
    from adlens.settings import get_settings
    from adlens.store import open_store
    from helpers import REPO

    settings = settings_of()
    monkeypatch.setenv("ADLENS_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("ADLENS_REDIS_PREFIX", settings.redis_prefix)
    get_settings.cache_clear()
    server = open_store()
    bus = GenerationBus(fleet, server).start()
    try:
        assert bus.subscribed.wait(WAIT)
        before = server.generation("ads")
        result = CliRunner().invoke(app, ["import", str(REPO / "examples" / "ads.yaml")], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert wait_until(lambda: bus.received >= 1)
        assert server.generation("ads") != before
    finally:
        bus.close()
        server.close()
