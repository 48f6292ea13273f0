"""The CPU cost of one ``/v1/decide`` (audience JSON) inside one server process, and where it goes.

Usage::

    python benchmarks/decide_cost.py [--requests N] [--rounds R] [--quick] [--out FILE]

No HTTP and no load generator: the API app runs in this process (its lifespan, every
middleware, the key check, the route) over a fresh SQLite store holding the demo's ad
inventory (``adlens.demo.content``, imported as ``adlens ads import`` does), and requests
are handed to it as ASGI calls one after the other, so the CPU time per request is the
server's own and the clients take none. A training job on the same cores slows every part
alike, so the shares hold where absolute numbers drift. Reported, in microseconds of
process CPU per request (the median of ``R`` interleaved rounds):

- ``healthz``: the baseline, what the app's middleware and routing cost with no work;
- ``decide``: a whole decision, logged to the store (the dozen audiences of 1–4 faces);
- ``decide_framework``: the same requests with the decision itself replaced by a fixed
  answer: routing, the key check, the body, validation, the thread hop, metrics, JSON;
- ``parts``: the decision's steps called directly (validation, the audience, the choice
  without logging, the decision event written, the answer's JSON).

Nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from report import emit, machine_info

Call = Callable[[bytes | None], Any]


def audiences(count: int = 12) -> list[bytes]:
    """``count`` audience JSON bodies of 1–4 faces with every column ``/v1/analyze`` gives (fixed seed)."""
    from adlens.columns import ATTRIBUTE_NAMES
    from adlens.faces import EMOTIONS

    rng = np.random.default_rng(0)
    bodies = []
    for i in range(count):
        faces = []
        for j in range(1 + i % 4):
            emotion = rng.random(len(EMOTIONS))
            x = 20.0 + 140 * j
            faces.append({
                "box": [x, 60.0, 96.0, 112.0], "score": 0.95,
                "landmarks": [[x + 29, 105], [x + 67, 105], [x + 48, 124], [x + 34, 144], [x + 62, 144]],
                "emotion": dict(zip(EMOTIONS, (emotion / emotion.sum()).round(4).tolist(), strict=True)),
                "age": float(rng.integers(12, 75)), "gender": ("male", "female")[int(rng.integers(2))],
                "gender_confidence": 0.9, **{name: round(float(rng.random()), 3) for name in ATTRIBUTE_NAMES}})
        bodies.append(json.dumps({"screen": ("entrance", "window")[i % 2], "frame": {"width": 640, "height": 480},
                                  "faces": faces}).encode())
    return bodies


def build_store(folder: Path) -> str:
    """The demo's ad inventory in a new SQLite store in ``folder`` (environment set for it); a screen key."""
    os.environ.update(ADLENS_DATABASE_URL=f"sqlite:///{folder / 'adlens.db'}", ADLENS_DATA_DIR=str(folder / "data"),
                      ADLENS_MODE="anonymous", ADLENS_API_RATE_LIMIT="0")
    from adlens.ads.importer import import_inventory
    from adlens.ads.loading import load_inventory
    from adlens.api.keys import create_key
    from adlens.demo.content import write_inventory
    from adlens.store import open_store

    store = open_store()
    try:
        import_inventory(store, load_inventory(write_inventory(folder / "inventory")))
        return create_key(store, "screen", "benchmark")
    finally:
        store.close()


def asgi_caller(app: Any, key: str) -> Callable[[str, bytes | None], Any]:
    """A coroutine function sending one request to ``app`` and returning its status."""
    async def send_one(path: str, body: bytes | None) -> int:
        headers = [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())]
        if body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
                 "method": "GET" if body is None else "POST", "path": path, "raw_path": path.encode(),
                 "root_path": "", "query_string": b"", "headers": headers, "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 1)}
        pending = [{"type": "http.request", "body": body or b"", "more_body": False}]
        status = 0

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()  # the client never disconnects
            return {}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return send_one


def cpu_us(run: Callable[[], Any], count: int) -> float:
    """Process CPU microseconds per call of ``run`` over ``count`` calls."""
    start = time.process_time()
    for _ in range(count):
        run()
    return (time.process_time() - start) / count * 1e6


def logged_event(decider: Any) -> Any:
    """The event a decision of ``decider`` logs (caught on its way to the store in versions without
    ``Decider.choose``, so that this benchmark also measures them)."""
    audience = audiences_built(decider)
    if hasattr(decider, "choose"):
        _decision, ticket = decider.choose(audience, source="benchmark")
        decider.journal.wait(ticket)
        return ticket.event
    caught: list[Any] = []
    store = decider.store
    store.append_event = lambda event, session=None: caught.append(event) or 0
    try:
        decider.decide(audience, source="benchmark")
    finally:
        del store.append_event
    return caught[0]


def audiences_built(decider: Any) -> Any:
    """An audience of the benchmark's (two faces) for ``decider``'s screen."""
    from adlens.api.schemas import AudienceIn
    from adlens.audience import Audience

    found = AudienceIn.model_validate_json(audiences()[1])
    return Audience.from_faces(found.to_faces(), found.frame_size(), found.screen or "s")


async def measure(args: argparse.Namespace, key: str) -> dict[str, Any]:
    import adlens.api.routes.vision as vision
    from adlens.api.app import create_app
    from adlens.api.schemas import AudienceIn
    from adlens.audience import Audience
    from adlens.settings import Settings

    app = create_app(Settings(), analyzer=False)
    bodies = audiences()
    send_one = asgi_caller(app, key)
    statuses: dict[int, int] = {}

    async def requests(path: str, count: int) -> float:
        start = time.process_time()
        for i in range(count):
            status = await send_one(path, None if path == "/healthz" else bodies[i % len(bodies)])
            statuses[status] = statuses.get(status, 0) + 1
        return (time.process_time() - start) / count * 1e6

    async with app.router.lifespan_context(app):
        await requests("/v1/decide", max(args.requests // 5, 10))  # warm-up: imports, caches, the inventory
        service = app.state.service
        real = vision._decide_audience
        fixed = real(service, AudienceIn.model_validate_json(bodies[3]))
        rounds: dict[str, list[float]] = {"healthz": [], "decide": [], "decide_framework": []}
        for _ in range(args.rounds):
            rounds["healthz"].append(await requests("/healthz", args.requests))
            rounds["decide"].append(await requests("/v1/decide", args.requests))
            vision._decide_audience = lambda _service, _audience: dict(fixed)
            try:
                rounds["decide_framework"].append(await requests("/v1/decide", args.requests))
            finally:
                vision._decide_audience = real
        parsed = [AudienceIn.model_validate_json(b) for b in bodies]
        built = [Audience.from_faces(a.to_faces(), a.frame_size(), a.screen or "s", a.moment()) for a in parsed]
        decider, n = service.decider, args.requests
        decision, event, append = decider.decide(built[3], log=False), logged_event(decider), service.store.append_event
        parts = {
            "validate_json": cpu_us(lambda: [AudienceIn.model_validate_json(b) for b in bodies], n // 12) / 12,
            "audience": cpu_us(lambda: [Audience.from_faces(a.to_faces(), a.frame_size(), "s") for a in parsed],
                               n // 12) / 12,
            "choose_unlogged": cpu_us(lambda: [decider.decide(a, source="benchmark", log=False) for a in built],
                                      n // 12) / 12,
            "write_decision_event": cpu_us(lambda: append(event), n),
            "answer_json": cpu_us(lambda: json.dumps(vision.decision_json(decision)), n),
        }
    found = {name: round(statistics.median(values), 1) for name, values in rounds.items()}
    found["parts"] = {name: round(value, 1) for name, value in parts.items()}
    found["framework_share_of_decide"] = round(found["decide_framework"] / found["decide"], 3)
    found["decide_vs_healthz"] = round(found["decide"] / found["healthz"], 2)
    found["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per route and round (default 600)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is kept (default 3)")
    parser.add_argument("--quick", action="store_true", help="CI smoke test: 60 requests, 1 round")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.rounds = 60, 1
    if args.requests < 12 or args.rounds < 1:
        parser.error("--requests must be ≥ 12 and --rounds ≥ 1")
    import fastapi

    with tempfile.TemporaryDirectory(prefix="adlens-decide-cost-") as tmp:
        print("importing the demo's ad inventory…", file=sys.stderr)
        key = build_store(Path(tmp))
        print(f"{args.rounds} round(s) of {args.requests} requests per route…", file=sys.stderr)
        result = asyncio.run(measure(args, key))
    document = {"benchmark": "decide_cost", "unit": "µs of process CPU per request",
                "machine": machine_info(fastapi=fastapi.__version__), "requests": args.requests,
                "rounds": args.rounds, "store": "sqlite (demo ad inventory, no traffic)", **result}
    emit(document, args.out)
    if any(status != 200 for status in map(int, result["statuses"])):
        sys.exit(1)
    return document


if __name__ == "__main__":
    main()
