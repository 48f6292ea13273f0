"""HTTP API benchmark: requests per second and latency of ``/v1/decide``, ``/v1/analyze`` and ``/healthz``.

Usage::

    python benchmarks/api.py [--seconds S] [--concurrency C] [--workers N] [--clients P]
                             [--routes healthz,decide,analyze] [--quick] [--out FILE]

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

The client is aiohttp (in the ``test`` extra). Its HTTP parser is C: on the development
machine it spent 0.1–0.25 ms of CPU per request where httpx (pure-Python h11) spent
1.6–2.1 ms, so httpx clients would take the CPU the server needs on a two-core machine
and cap the rate they can measure. Nothing is asserted on time; the exit status is
non-zero only on errors (the server does not start).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

DECIDE_TARGET_RPS = 500
ROUTES = ("healthz", "decide", "analyze")
BOUNDARY = "adlens-benchmark-boundary"
START_TIMEOUT = 180.0  # seconds for the server to load its models and answer /healthz

# One request: method, path, body, headers.
Request = tuple[str, str, bytes | None, dict[str, str]]


# --- the server ------------------------------------------------------------------------


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


def start_server(folder: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """``adlens serve`` on ``port``, waited for until ``/healthz`` says the models are loaded."""
    with log.open("wb") as sink:
        server = subprocess.Popen(adlens_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                                                 str(workers), "--log-level", "warning"),
                                  env=server_env(folder), stdout=sink, stderr=subprocess.STDOUT)
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
def serving(folder: Path, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``adlens serve`` over the store in ``folder`` on a free port, as ``(process, base URL)``; stopped after."""
    port = free_port()
    print(f"starting adlens serve --workers {workers} on port {port}…", file=sys.stderr)
    server = start_server(folder, port, workers, folder / "server.log")
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` and its descendants (Linux /proc; else ``None``)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, pending = 0.0, [pid]
    try:
        while pending:
            current = pending.pop()
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14, 15 of stat)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    except (OSError, IndexError, ValueError):
        return None
    return total


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

    faces, frame = [], {}
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


# --- the clients -------------------------------------------------------------------------


def client(base: str, requests: list[Request], connections: int, start_at: float, warmup: float,
           seconds: float, offset: int) -> dict[str, Any]:
    """One client process: ``connections`` keep-alive connections busy from ``start_at`` (wall clock) on."""
    return asyncio.run(_drive(base, requests, connections, start_at, warmup, seconds, offset))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _drive(base: str, requests: list[Request], connections: int, start_at: float, warmup: float,
                 seconds: float, offset: int) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        measure_from = time.perf_counter() + warmup
        end = measure_from + seconds

        async def loop(lane: int) -> None:
            n = offset + lane
            while time.perf_counter() < end:
                method, path, body, headers = requests[n % len(requests)]
                n += connections
                started = time.perf_counter()
                try:
                    async with session.request(method, path, data=body, headers=headers) as response:
                        await response.read()
                        status = str(response.status)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                    status = None
                    failure = type(error).__name__
                finished = time.perf_counter()
                if not measure_from <= finished <= end:
                    continue
                if status is None:
                    exceptions[failure] += 1
                else:
                    statuses[status] += 1
                    latencies.append((finished - started) * 1000)

        async def meter() -> float:
            await asyncio.sleep(measure_from - time.perf_counter())
            before = _cpu_seconds()
            await asyncio.sleep(end - time.perf_counter())
            return _cpu_seconds() - before

        *_, cpu = await asyncio.gather(*(loop(lane) for lane in range(connections)), meter())
    return {"latencies": latencies, "statuses": dict(statuses), "exceptions": dict(exceptions), "cpu_s": cpu}


def run_route(pool: Any, base: str, requests: list[Request], connections: int, args: argparse.Namespace,
              server_pid: int) -> dict[str, Any]:
    """Drive one route over ``connections`` from every client process and sum up what they saw."""
    per_client = [connections // args.clients + (i < connections % args.clients) for i in range(args.clients)]
    start_at = time.time() + 1.0  # every process starts together, after its imports
    jobs = [(base, requests, n, start_at, args.warmup, args.seconds, i * 7) for i, n in enumerate(per_client) if n]
    waiting = pool.starmap_async(client, jobs)
    time.sleep(max(0.0, start_at + args.warmup - time.time()))
    cpu_before, wall_before = tree_cpu_seconds(server_pid), time.perf_counter()
    time.sleep(args.seconds)
    cpu_after, wall = tree_cpu_seconds(server_pid), time.perf_counter() - wall_before
    parts = waiting.get()
    latencies = np.array([v for part in parts for v in part["latencies"]], dtype=np.float64)
    statuses: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    for part in parts:
        statuses.update(part["statuses"])
        exceptions.update(part["exceptions"])
    ok = sum(n for status, n in statuses.items() if status.startswith("2"))
    non_2xx = {status: n for status, n in sorted(statuses.items()) if not status.startswith("2")}
    server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return {
        "connections": connections,
        "requests": int(sum(statuses.values()) + sum(exceptions.values())),
        "ok": ok,
        "rps": round(ok / args.seconds, 1),
        "latency_ms": {name: round(float(np.percentile(latencies, q)), 2) if len(latencies) else None
                       for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "errors": sum(non_2xx.values()) + sum(exceptions.values()),
        "non_2xx": non_2xx,
        "exceptions": dict(sorted(exceptions.items())),
        # CPU seconds per second of the window: how many cores were busy (the machine has cpu_count).
        "server_cpu_cores": None if server_cpu is None else round(server_cpu / wall, 2),
        "client_cpu_cores": round(sum(p["cpu_s"] for p in parts) / args.seconds, 2),
    }


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
    parser.add_argument("--quick", action="store_true", help="CI smoke test: 1 s per route, 1 s warm-up")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup = 1.0, 1.0
    routes = pick_routes(parser, args.routes, ROUTES)
    analyze_connections = args.analyze_concurrency or 2 * args.workers
    if args.seconds <= 0 or args.warmup < 0 or args.workers < 1 \
            or not 1 <= args.clients <= min(args.concurrency, analyze_connections):
        parser.error("--seconds must be > 0, --warmup ≥ 0, --workers ≥ 1 and 1 ≤ --clients ≤ either concurrency")

    aiohttp = load_aiohttp(parser)
    import fastapi
    import uvicorn

    with tempfile.TemporaryDirectory(prefix="adlens-api-bench-") as tmp:
        folder = Path(tmp)
        key = prepare(folder)
        with serving(folder, args.workers) as (server, base):
            photo = jpeg("astronaut")
            faces, frame = analyzed_faces(base, key)
            bodies = audiences(faces, frame)
            results: dict[str, Any] = {}
            with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
                for route in routes:
                    connections = analyze_connections if route == "analyze" else args.concurrency
                    print(f"{route}: {args.warmup:g} s warm-up + {args.seconds:g} s, "
                          f"{connections} connections from {args.clients} processes…", file=sys.stderr)
                    results[route] = run_route(pool, base, requests_for(route, key, bodies, photo), connections,
                                               args, server.pid)

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
    emit(document, args.out)
    return document


if __name__ == "__main__":
    main()
