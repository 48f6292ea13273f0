"""Running ``adlens serve`` for the API benchmark (benchmarks/api.py): the demo store, a key, the servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT = 180.0  # seconds for a server to load its models and answer /healthz


def adlens_command(*args: str) -> list[str]:
    """The ``adlens`` command of this interpreter's environment (no reliance on PATH)."""
    return [sys.executable, "-c", "from adlens.cli import main; main()", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(folder: Path) -> dict[str, str]:
    """The environment of the demo store in ``folder``, with the per-key rate limit off."""
    return {**os.environ, "ADLENS_DATABASE_URL": f"sqlite:///{folder / 'adlens-demo.db'}",
            "ADLENS_DATA_DIR": str(folder / "data"), "ADLENS_API_RATE_LIMIT": "0", "ADLENS_MODE": "anonymous"}


def prepare(folder: Path) -> str:
    """Build the demo store in ``folder`` and return a new screen key for it."""
    print(f"building the demo store in {folder}…", file=sys.stderr)
    subprocess.run(adlens_command("demo", "--out", str(folder)), check=True, stdout=subprocess.DEVNULL,
                   env=os.environ.copy())
    made = subprocess.run(adlens_command("keys", "create", "screen", "--name", "benchmark"), check=True,
                          capture_output=True, text=True, env=server_env(folder))
    return made.stdout.strip()


def start_server(folder: Path, port: int, workers: int, log: Path,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``adlens serve`` on ``port`` (``env``: more variables), waited for until ``/healthz`` says the models
    are loaded."""
    with log.open("wb") as sink:
        server = subprocess.Popen(adlens_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                                                 str(workers), "--log-level", "warning"),
                                  env={**server_env(folder), **(env or {})}, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if json.load(answer).get("models_loaded"):
                    return server
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT:g} s:\n{log.read_text()[-3000:]}")


@contextmanager
def serving(folder: Path, workers: int, servers: int = 1,
            env: dict[str, str] | None = None) -> Iterator[list[tuple[subprocess.Popen[bytes], str]]]:
    """``servers`` × ``adlens serve --workers N`` over the store in ``folder`` (``env``: more variables), each on
    a free port, as ``[(process, base URL)]``; stopped after."""
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for i in range(servers):
            port = free_port()
            print(f"starting adlens serve --workers {workers} on port {port}…", file=sys.stderr)
            process = start_server(folder, port, workers, folder / f"server{i}.log", env)
            started.append((process, f"http://127.0.0.1:{port}"))
        yield started
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
