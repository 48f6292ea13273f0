"""API fixtures: an app over a fresh store, with one key per role, and the real models when present."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adlens.settings import Settings
from helpers import MODELS

ROLES = ("admin", "screen", "analyst")


@dataclass
class Api:
    """A running test app: its client, one key per role, and its store."""

    client: TestClient
    keys: dict[str, str]
    service: Any

    @property
    def store(self) -> Any:
        return self.service.store

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def get(self, path: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers(role), **kwargs)

    def post(self, path: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers(role), **kwargs)

    def delete(self, path: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self.headers(role), **kwargs)


def api_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings for a test app: its own SQLite store (unless ``database_url``), data folder and gallery key
    under ``folder``."""
    from cryptography.fernet import Fernet

    return Settings(**{"database_url": f"sqlite:///{folder / 'api.db'}", "data_dir": folder / "data",
                       "gallery_key": Fernet.generate_key().decode(), **overrides})


@pytest.fixture()
def make_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Api]]:
    """``make_api(models=False, **settings)`` starts an app; ``models=True`` shares the session's analyzer."""
    from adlens.api import create_app
    from adlens.api.keys import create_key

    stack: list[TestClient] = []

    def make(models: bool = False, **overrides: Any) -> Api:
        analyzer = request.getfixturevalue("analyzer") if models else False
        settings = api_settings(tmp_path / f"app{len(stack)}", **overrides)
        client = TestClient(create_app(settings, analyzer=analyzer), raise_server_exceptions=False)
        client.__enter__()
        stack.append(client)
        service = client.app.state.service
        keys = {role: create_key(service.store, role, name=f"test {role}") for role in ROLES}
        return Api(client, keys, service)

    yield make
    for client in stack:
        client.__exit__(None, None, None)


@pytest.fixture()
def api(make_api: Callable[..., Api]) -> Api:
    """An app without models (the routes that need none)."""
    return make_api()


@pytest.fixture()
def vision_api(make_api: Callable[..., Api]) -> Api:
    """An app with the real models from ../shared/models."""
    if not MODELS.is_dir():
        pytest.skip(f"models not found: {MODELS}")
    return make_api(models=True)


@dataclass
class Exchange:
    """What a raw ASGI call answered, and how many times the app asked for the request's body."""

    status: int
    body: bytes
    reads: int


def call_asgi(app: Any, method: str, path: str, headers: dict[str, str],
              messages: list[dict[str, Any]], hang: bool = False) -> Exchange:
    """Run one request through ``app`` (started by a TestClient) with the body ``messages``, in order;
    after them the client hangs (``hang``) or has disconnected."""
    import asyncio

    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        if reads <= len(messages):
            return messages[reads - 1]
        if hang:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("203.0.113.9", 5000), "server": ("testserver", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    start = next((m for m in sent if m["type"] == "http.response.start"), {"status": 0})
    return Exchange(start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
                    reads)


@contextmanager
def serving(app: Any, **config: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn (``config``: more :class:`uvicorn.Config` options) in a background thread on a
    free loopback port; yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound before the server starts: no race for a free port
    server = uvicorn.Server(uvicorn.Config(app, **{"log_level": "warning", **config}))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120  # a guard against a hang, not a timing check
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the app did not start (see the log above)")
            time.sleep(0.05)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()
