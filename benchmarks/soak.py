"""Soak test of ``adlens serve``: mixed traffic for minutes, with the server's memory (RSS) over time.

Usage::

    python benchmarks/soak.py [--seconds S] [--baseline-seconds B] [--concurrency C] [--workers N]
                              [--sample T] [--routes R,R…] [--no-analyze] [--quick] [--out FILE]

It builds a small store in a temporary folder (three ads with drawn creatives, 40 products,
one key per role), starts ``adlens serve --workers N`` on a free loopback port with the
per-key rate limit off (as ``benchmarks/api.py`` does, whose helpers it uses) and waits for
the models. Then, from one aiohttp client keeping ``C`` keep-alive connections busy:

1. **baseline**: ``B`` seconds (default 30) of ``/healthz`` only: what the server's memory
   does with no work, and plain HTTP's rate, in the same run;
2. **soak**: ``S`` seconds (default 600, ten minutes) of a fixed mix: ``/v1/decide`` with
   audience JSON (each a logged decision), ``/v1/reward`` for decisions that showed an ad,
   ``/v1/feedback`` (an answer folded into a profile), ``/v1/ads`` with performance,
   ``/v1/reports?since=10m``, ``/v1/reports/live``, ``/healthz`` and, unless ``--no-analyze``,
   ``/v1/analyze`` with a sample photo (the vision models). ``--routes`` keeps only some of
   them, in the same proportions: without ``ads`` and ``reports`` (which read every event of
   their period, so their memory follows the log's growth) the soak tells a leak from data.

The RSS of the server and its workers together (Linux ``/proc``) is sampled every ``T``
seconds (default 10). Reported per phase: requests, requests per second (2xx), errors
(every non-2xx status and client-side exception, by kind), and RSS at the start, the end
and its maximum, with the samples; the soak also gives each route's count, rate and
latency percentiles. Nothing is asserted on time or memory; the exit status is non-zero
only when the server does not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from api import analyzed_faces, audiences, jpeg, load_aiohttp, multipart_image, pick_routes
from servers import server_env, serving
from report import emit, machine_info

#: Share of each route in the soak's mix (a reward needs a decision that showed an ad first).
MIX = {"decide": 40, "reward": 15, "feedback": 15, "ads": 8, "reports": 4, "live": 8, "healthz": 5, "analyze": 5}
PRODUCTS, CUSTOMERS = 40, 50
KINDS = ("sneakers", "sandals", "bag", "cap")


# --- the store and the server ----------------------------------------------------------


def prepare(folder: Path) -> dict[str, str]:
    """A small store at the URL :func:`servers.server_env` gives ``folder``: ads, products, one key per role."""
    import cv2

    from adlens.ads.importer import import_inventory
    from adlens.ads.loading import parse_inventory
    from adlens.api.keys import create_key
    from adlens.crypto import EmbeddingCipher
    from adlens.products.types import Aspects, Product
    from adlens.settings import Settings
    from adlens.store import open_store

    env = server_env(folder)
    # The server reads the same store and data folder (where the gallery key is made on first use).
    settings = Settings(database_url=env["ADLENS_DATABASE_URL"], data_dir=Path(env["ADLENS_DATA_DIR"]))
    creatives = folder / "creatives"
    creatives.mkdir(parents=True)
    ads = []
    for n, (name, targeting) in enumerate((("shades", {"attributes": {"eyewear": True}}), ("caps", {}),
                                           ("family", {"age": [18, 60]}))):
        image = creatives / f"{name}.png"
        cv2.imwrite(str(image), np.full((90, 160, 3), 60 * (n + 1), np.uint8))
        ads.append({"id": name, "name": name.title(), "targeting": targeting,
                    "creatives": [{"id": "main", "image": image.name}]})
    inventory = parse_inventory({"ads": ads}, creatives, "soak inventory")
    with open_store(settings.store_url) as store:
        report = import_inventory(store, inventory, cipher=EmbeddingCipher(settings))
        if report.problems:
            raise RuntimeError(f"the soak's ads did not import: {report.problems}")
        for n in range(PRODUCTS):
            kind, colour = KINDS[n % len(KINDS)], ("red", "blue", "black", "white", "green")[n % 5]
            store.upsert_product(Product(f"p{n}", f"{colour} {kind}", {"articleType": kind, "baseColour": colour},
                                         aspects=Aspects(colours={colour: 1.0}, tokens={colour: 1.0, kind: 1.0})))
        return {role: create_key(store, role, name=f"soak {role}") for role in ("admin", "screen", "analyst")}


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` and its descendants in MB (Linux ``/proc``; else ``None``)."""
    total, pending = 0, [pid]
    try:
        while pending:
            current = pending.pop()
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])  # kB
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    except (OSError, IndexError, ValueError):
        return None
    return round(total / 1024, 1)


# --- the traffic ---------------------------------------------------------------------------


class Traffic:
    """The requests of the mix, in a fixed order drawn with a seed, and what the answers leave to reward."""

    def __init__(self, keys: dict[str, str], bodies: list[bytes], photo: bytes, routes: list[str]) -> None:
        self.keys, self.bodies, self.photo = keys, bodies, multipart_image("astronaut.jpg", photo)
        mix = {route: MIX[route] for route in routes}
        rng = np.random.default_rng(0)
        self.order = list(rng.choice(list(mix), size=1000, p=np.array(list(mix.values())) / sum(mix.values())))
        self.to_reward: list[str] = []
        self.n = 0

    def _auth(self, role: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **headers}

    def next(self, route: str | None = None) -> tuple[str, str, str, bytes | None, dict[str, str]]:
        """The next request as ``(route, method, path, body, headers)``; ``route`` forces one kind."""
        self.n += 1
        n = self.n
        route = route or str(self.order[n % len(self.order)])
        if route == "reward" and not self.to_reward:
            route = "decide"
        json_type = {"Content-Type": "application/json"}
        if route == "decide":
            return route, "POST", "/v1/decide", self.bodies[n % len(self.bodies)], self._auth("screen", **json_type)
        if route == "reward":
            body = {"decision_id": self.to_reward.pop(), "value": float(n % 12), "kind": "dwell"}
            return route, "POST", "/v1/reward", json.dumps(body).encode(), self._auth("screen", **json_type)
        if route == "feedback":
            body = {"customer": f"soak-{n % CUSTOMERS}", "product": f"p{n % PRODUCTS}",
                    "feedback": "like" if n % 3 else "dislike", "create_customer": True}
            return route, "POST", "/v1/feedback", json.dumps(body).encode(), self._auth("admin", **json_type)
        if route == "ads":
            return route, "GET", "/v1/ads?days=1", None, self._auth("analyst")
        if route == "reports":
            return route, "GET", "/v1/reports?since=10m", None, self._auth("analyst")
        if route == "live":
            return route, "GET", "/v1/reports/live", None, self._auth("analyst")
        if route == "analyze":
            body, headers = self.photo
            return route, "POST", "/v1/analyze", body, self._auth("screen", **headers)
        return "healthz", "GET", "/healthz", None, {}

    def answered(self, route: str, status: int, payload: bytes) -> None:
        """Note a decision that showed an ad, for a later reward."""
        if route == "decide" and status == 200:
            decision = json.loads(payload)
            if decision.get("ad") and decision.get("decision_id"):
                self.to_reward.append(decision["decision_id"])
                del self.to_reward[:-1000]


async def drive(base: str, traffic: Traffic, only: str | None, connections: int, seconds: float,
                sample_every: float, server_pid: int) -> dict[str, Any]:
    """Keep ``connections`` busy for ``seconds`` with ``traffic`` (or ``only`` one route), sampling the RSS."""
    import aiohttp

    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    exceptions: Counter[str] = Counter()
    latencies: dict[str, list[float]] = defaultdict(list)
    samples: list[tuple[float, float | None]] = []
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        started = time.perf_counter()
        end = started + seconds

        async def lane() -> None:
            while time.perf_counter() < end:
                route, method, path, body, headers = traffic.next(only)
                sent = time.perf_counter()
                try:
                    async with session.request(method, path, data=body, headers=headers) as response:
                        payload = await response.read()
                        traffic.answered(route, response.status, payload)
                        statuses[route][str(response.status)] += 1
                        latencies[route].append((time.perf_counter() - sent) * 1000)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as error:
                    exceptions[f"{route}: {type(error).__name__}"] += 1

        async def meter() -> None:
            while True:
                samples.append((round(time.perf_counter() - started, 1), tree_rss_mb(server_pid)))
                if time.perf_counter() >= end:
                    return
                await asyncio.sleep(min(sample_every, max(0.0, end - time.perf_counter())))

        await asyncio.gather(*(lane() for _ in range(connections)), meter())
        elapsed = time.perf_counter() - started
    return _summary(statuses, exceptions, latencies, samples, elapsed)


def _summary(statuses: dict[str, Counter[str]], exceptions: Counter[str], latencies: dict[str, list[float]],
             samples: list[tuple[float, float | None]], elapsed: float) -> dict[str, Any]:
    ok = {route: sum(n for s, n in counted.items() if s.startswith("2")) for route, counted in statuses.items()}
    non_2xx: Counter[str] = Counter()
    for route, counted in statuses.items():
        non_2xx.update({f"{route}: {s}": n for s, n in counted.items() if not s.startswith("2")})
    rss = [mb for _, mb in samples if mb is not None]
    return {
        "seconds": round(elapsed, 1),
        "requests": sum(sum(c.values()) for c in statuses.values()) + sum(exceptions.values()),
        "ok": sum(ok.values()),
        "rps": round(sum(ok.values()) / elapsed, 1),
        "errors": sum(non_2xx.values()) + sum(exceptions.values()),
        "non_2xx": dict(sorted(non_2xx.items())),
        "exceptions": dict(sorted(exceptions.items())),
        "by_route": {route: {"requests": sum(statuses[route].values()), "rps": round(ok[route] / elapsed, 1),
                             "latency_ms": {name: round(float(np.percentile(latencies[route], q)), 2)
                                            for name, q in (("p50", 50), ("p99", 99))}}
                     for route in sorted(statuses)},
        "rss_mb": {"start": rss[0] if rss else None, "end": rss[-1] if rss else None,
                   "max": max(rss) if rss else None, "samples": samples},
    }


# --- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="seconds of mixed traffic (default 600)")
    parser.add_argument("--baseline-seconds", type=float, default=30.0,
                        help="seconds of /healthz alone first, the baseline (default 30)")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    parser.add_argument("--routes", default=",".join(MIX),
                        help=f"comma-separated part of the mix, of {', '.join(MIX)} (default: all)")
    parser.add_argument("--no-analyze", action="store_true", help="leave /v1/analyze (the vision models) out")
    parser.add_argument("--quick", action="store_true", help="CI smoke test: 3 s of mix after 1 s of baseline")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.baseline_seconds, args.sample = 3.0, 1.0, 1.0
    if args.seconds <= 0 or args.baseline_seconds < 0 or args.sample <= 0 or args.concurrency < 1 \
            or args.workers < 1:
        parser.error("--seconds and --sample must be > 0, --baseline-seconds ≥ 0, --concurrency and --workers ≥ 1")
    routes = [r for r in pick_routes(parser, args.routes, MIX) if not (args.no_analyze and r == "analyze")]
    if not routes:
        parser.error("--no-analyze leaves no route of --routes")
    aiohttp = load_aiohttp(parser)

    with tempfile.TemporaryDirectory(prefix="adlens-soak-") as tmp:
        folder = Path(tmp)
        print(f"building a small store in {folder}…", file=sys.stderr)
        keys = prepare(folder)
        with serving(folder, args.workers) as [(server, base)]:
            faces, frame = analyzed_faces(base, keys["screen"])
            traffic = Traffic(keys, audiences(faces, frame), jpeg("astronaut"), routes)
            print(f"baseline: {args.baseline_seconds:g} s of /healthz…", file=sys.stderr)
            baseline = asyncio.run(drive(base, traffic, "healthz", args.concurrency, args.baseline_seconds,
                                         args.sample, server.pid)) if args.baseline_seconds else None
            print(f"soak: {args.seconds:g} s of mixed requests over {args.concurrency} connections…", file=sys.stderr)
            soak = asyncio.run(drive(base, traffic, None, args.concurrency, args.seconds, args.sample, server.pid))

    document = {
        "benchmark": "soak",
        "machine": machine_info(aiohttp=aiohttp.__version__),
        "server": {"workers": args.workers, "store": "sqlite (3 ads, 40 products)", "rate_limit": "off"},
        "load": {"concurrency": args.concurrency, "client": "aiohttp", "keep_alive": True,
                 "mix_percent": {r: round(100 * MIX[r] / sum(MIX[q] for q in routes), 1) for r in routes},
                 "rss_sample_s": args.sample},
        "baseline": baseline,
        "soak": soak,
        # Memory the mixed traffic added over the soak: its last RSS sample minus its first.
        "rss_growth_mb": None if soak["rss_mb"]["start"] is None else round(soak["rss_mb"]["end"]
                                                                            - soak["rss_mb"]["start"], 1),
    }
    emit(document, args.out)
    return document


if __name__ == "__main__":
    main()
