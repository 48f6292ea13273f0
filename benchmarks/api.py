"""HTTP API benchmark: requests per second and latency of ``/v1/decide``, ``/v1/analyze`` and ``/healthz``.

Usage::

    python benchmarks/api.py [--seconds S] [--concurrency C] [--workers N] [--clients P]
                             [--routes healthz,decide,analyze] [--fleet [--fleet-workers M]
                             [--redis-url URL]] [--quick] [--out FILE]

It builds the demo store in a temporary folder (``adlens demo``: the drawn shop, its ad
inventory and a simulated day of rewards), makes a screen key (``adlens keys create
screen``) and starts ``adlens serve --workers N`` on a free loopback port with the
per-key rate limit off (``ADLENS_API_RATE_LIMIT=0``). The faces of the built-in sample
pictures, as ``/v1/analyze`` returns them, make a dozen audiences of 1–4 faces.

Then route after route, ``P`` client processes keep ``C`` keep-alive connections in all
busy for a warm-up (every worker builds its caches) and ``S`` seconds: ``/healthz`` (no
key, no work: the floor, what HTTP alone costs here), ``/v1/decide`` with the audiences
as JSON (a logged decision each), ``/v1/analyze`` with one JPEG photo (the vision
models; 2 connections per worker by default, as a worker analyses one image at a time
and more connections only queue). A request counts when it completes inside the
measured window. Reported per route: requests per second (2xx only), latency
percentiles, every non-2xx status and client-side exception, and the cores the server
and the clients kept busy (on a small machine they share them). ``/v1/decide`` also
carries ``target_rps`` (500) and ``meets_target``.

``--fleet`` adds, in the same run, ``/v1/decide`` through two ``adlens serve --workers M``
sharing one Redis (``ADLENS_REDIS_URL``: rate limits, change notices; docs/fleet.md) and
the one store, the clients' connections spread over both, against one ``adlens serve
--workers N`` without Redis. Both runs keep a per-key rate limit that never refuses
(10⁶/s), so the fleet's Redis token bucket is paid on every request as in production;
the fleet part carries ``target_rps`` (1,500), ``target_p99_ms`` (50) and ``meets_target``.
Redis's own CPU is not counted in ``server_cpu_cores``.

The client is aiohttp (in the ``test`` extra). Its HTTP parser is C: on the development
machine it spent 0.1–0.25 ms of CPU per request where httpx (pure-Python h11) spent
1.6–2.1 ms, so httpx clients would take the CPU the server needs on a two-core machine
and cap the rate they can measure. Nothing is asserted on time; the exit status is
non-zero only on errors (the server does not start).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

# benchmarks/*.py (the script's folder is on sys.path)
from load import Request, run_route
from report import emit, machine_info
from servers import prepare, serving

DECIDE_TARGET_RPS = 500
FLEET_TARGET_RPS, FLEET_TARGET_P99_MS = 1500, 50.0
ROUTES = ("healthz", "decide", "analyze")
BOUNDARY = "adlens-benchmark-boundary"
#: A per-key limit no benchmark reaches: the limiter runs (in Redis for the fleet) but never refuses.
NEVER_LIMITED = {"ADLENS_API_RATE_LIMIT": "1000000", "ADLENS_API_RATE_BURST": "1000000"}


# --- what the clients send -------------------------------------------------------------


def jpeg(name: str) -> bytes:
    """A built-in sample picture as JPEG bytes."""
    import cv2

    from adlens.samples import sample_image

    ok, encoded = cv2.imencode(".jpg", sample_image(name), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError(f"cannot encode the sample {name!r} as JPEG")
    return encoded.tobytes()


def multipart_image(name: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body with one ``image`` field, encoded once and sent as is by every request."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def analyzed_faces(base: str, key: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The faces ``/v1/analyze`` finds in every sample picture, and the first picture's frame size."""
    from adlens.samples import SAMPLES

    faces: list[dict[str, Any]] = []
    frame: dict[str, int] = {}
    for name in SAMPLES:
        body, headers = multipart_image(f"{name}.jpg", jpeg(name))
        request = urllib.request.Request(f"{base}/v1/analyze", data=body, method="POST",
                                         headers={**headers, "Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            found = json.load(answer)
        faces += found["faces"]
        frame = frame or {"width": found["width"], "height": found["height"]}
    return faces, frame


def audiences(faces: list[dict[str, Any]], frame: dict[str, int], count: int = 12) -> list[bytes]:
    """``count`` audience JSON bodies of 1–4 of ``faces`` (varied sizes and mixes, fixed seed)."""
    if not faces:
        raise RuntimeError("no face found in the sample pictures: the audiences would all be empty")
    rng = np.random.default_rng(0)
    bodies = []
    for i in range(count):
        size = min(1 + i % 4, len(faces))
        chosen = [faces[j] for j in rng.choice(len(faces), size=size, replace=False)]
        bodies.append(json.dumps({"screen": ("entrance", "window")[i % 2], "frame": frame,
                                  "faces": chosen}).encode())
    return bodies


def requests_for(route: str, key: str, audience_bodies: list[bytes], photo: bytes) -> list[Request]:
    auth = {"Authorization": f"Bearer {key}"}
    if route == "healthz":
        return [("GET", "/healthz", None, {})]
    if route == "decide":
        return [("POST", "/v1/decide", body, {**auth, "Content-Type": "application/json"}) for body in audience_bodies]
    body, headers = multipart_image("astronaut.jpg", photo)
    return [("POST", "/v1/analyze", body, {**auth, **headers})]


def run_fleet(pool: Any, args: argparse.Namespace, folder: Path, key: str, bodies: list[bytes]) -> dict[str, Any]:
    """``/v1/decide`` through one server without Redis, then through two sharing Redis (see the docstring)."""
    requests = requests_for("decide", key, bodies, b"")
    shared = {**NEVER_LIMITED, "ADLENS_REDIS_URL": args.redis_url,
              "ADLENS_REDIS_PREFIX": f"adlens-bench-{secrets.token_hex(4)}:"}
    found: dict[str, Any] = {}
    for name, servers, workers, env in (("one_server", 1, args.workers, NEVER_LIMITED),
                                        ("two_servers", 2, args.fleet_workers, shared)):
        with serving(folder, workers, servers, env) as started:
            print(f"fleet, {name}: decide over {args.concurrency} connections…", file=sys.stderr)
            found[name] = {"servers": servers, "workers_each": workers, "redis": "ADLENS_REDIS_URL" in env,
                           **run_route(pool, [base for _, base in started], requests, args.concurrency, args,
                                       [process.pid for process, _ in started])}
    two, one = found["two_servers"], found["one_server"]
    p99 = two["latency_ms"]["p99"]
    two.update(target_rps=FLEET_TARGET_RPS, target_p99_ms=FLEET_TARGET_P99_MS,
               meets_target=two["rps"] >= FLEET_TARGET_RPS and p99 is not None and p99 <= FLEET_TARGET_P99_MS
               and two["errors"] == 0)
    found["two_vs_one_rps"] = round(two["rps"] / one["rps"], 3) if one["rps"] else None
    return found


# --- the run -------------------------------------------------------------------------------


def pick_routes(parser: argparse.ArgumentParser, text: str, known: Any) -> list[str]:
    """The comma-separated routes of ``text``, each one of ``known`` (else a usage error)."""
    routes = [r.strip() for r in text.split(",") if r.strip()]
    if unknown := sorted(set(routes) - set(known)):
        parser.error(f"unknown route(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
    if not routes:
        parser.error("no route named")
    return routes


def load_aiohttp(parser: argparse.ArgumentParser) -> Any:
    """The aiohttp module the load generators use, or a usage error saying how to install it."""
    try:
        import aiohttp
    except ImportError:
        parser.error("the load generator needs aiohttp: pip install -e '.[test]'")
    return aiohttp


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per route (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="unmeasured seconds before each, so every worker has built its caches (default 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections in all (default 32)")
    parser.add_argument("--analyze-concurrency", type=int, default=None,
                        help="connections for /v1/analyze, which analyses one image at a time per worker "
                             "(more only queue): default 2 per worker")
    parser.add_argument("--clients", type=int, default=2, help="client processes sharing them (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--routes", default=",".join(ROUTES), help=f"comma-separated, of {', '.join(ROUTES)}")
    parser.add_argument("--fleet", action="store_true",
                        help="also /v1/decide through two servers sharing Redis against one server")
    parser.add_argument("--fleet-workers", type=int, default=None,
                        help="worker processes of each fleet server (default: --workers // 2, at least 1)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="the fleet's Redis (--fleet)")
    parser.add_argument("--quick", action="store_true", help="CI smoke test: 1 s per route, 1 s warm-up")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup = 1.0, 1.0
    routes = pick_routes(parser, args.routes, ROUTES)
    args.fleet_workers = args.fleet_workers or max(args.workers // 2, 1)
    analyze_connections = args.analyze_concurrency or 2 * args.workers
    if args.seconds <= 0 or args.warmup < 0 or args.workers < 1 \
                or not 1 <= args.clients <= min(args.concurrency, analyze_connections) or args.fleet_workers < 1:
        parser.error("--seconds must be > 0, --warmup ≥ 0, --workers and --fleet-workers ≥ 1 and "
                     "1 ≤ --clients ≤ either concurrency")

    aiohttp = load_aiohttp(parser)
    import fastapi
    import uvicorn

    fleet: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="adlens-api-bench-") as tmp, \
            multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        folder = Path(tmp)
        key = prepare(folder)
        with serving(folder, args.workers) as [(server, base)]:
            photo = jpeg("astronaut")
            faces, frame = analyzed_faces(base, key)
            bodies = audiences(faces, frame)
            results: dict[str, Any] = {}
            for route in routes:
                connections = analyze_connections if route == "analyze" else args.concurrency
                print(f"{route}: {args.warmup:g} s warm-up + {args.seconds:g} s, "
                      f"{connections} connections from {args.clients} processes…", file=sys.stderr)
                results[route] = run_route(pool, [base], requests_for(route, key, bodies, photo), connections,
                                           args, [server.pid])
        if args.fleet:
            fleet = run_fleet(pool, args, folder, key, bodies)

    if "decide" in results:
        results["decide"]["target_rps"] = DECIDE_TARGET_RPS
        results["decide"]["meets_target"] = results["decide"]["rps"] >= DECIDE_TARGET_RPS
    floor = results.get("healthz", {}).get("rps")
    document = {
        "benchmark": "api",
        "machine": machine_info(aiohttp=aiohttp.__version__, fastapi=fastapi.__version__, uvicorn=uvicorn.__version__),
        "server": {"workers": args.workers, "store": "sqlite (demo content)", "rate_limit": "off"},
        "load": {"seconds": args.seconds, "warmup_s": args.warmup, "client_processes": args.clients,
                 "client": "aiohttp", "keep_alive": True, "audiences": len(bodies), "faces_per_audience": "1-4",
                 "analyze_image": "astronaut.jpg"},
        "routes": results,
        # Each route's rate as a share of /healthz's: what the route's own work leaves of plain HTTP's rate.
        "share_of_healthz_rps": {route: round(r["rps"] / floor, 3) for route, r in results.items()
                                 if floor and route != "healthz"},
    }
    if fleet is not None:
        document["fleet"] = fleet
    emit(document, args.out)
    return document


if __name__ == "__main__":
    main()
