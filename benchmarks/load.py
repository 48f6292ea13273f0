"""The API benchmark's load generators (benchmarks/api.py): client processes of keep-alive connections, and
the CPU the servers and the clients spent."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

# One request: method, path, body, headers.
Request = tuple[str, str, bytes | None, dict[str, str]]


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


def servers_cpu_seconds(pids: list[int]) -> float | None:
    """CPU seconds of the process trees of ``pids`` together (``None`` when one cannot be read)."""
    found = [tree_cpu_seconds(pid) for pid in pids]
    return None if None in found else sum(f for f in found if f is not None)


def client(bases: list[str], requests: list[Request], connections: int, start_at: float, warmup: float,
           seconds: float, offset: int) -> dict[str, Any]:
    """One client process: ``connections`` keep-alive connections busy from ``start_at`` (wall clock) on,
    spread over the servers at ``bases`` in turn."""
    return asyncio.run(_drive(bases, requests, connections, start_at, warmup, seconds, offset))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _drive(bases: list[str], requests: list[Request], connections: int, start_at: float, warmup: float,
                 seconds: float, offset: int) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        measure_from = time.perf_counter() + warmup
        end = measure_from + seconds

        async def loop(lane: int) -> None:
            n, base = offset + lane, bases[(offset + lane) % len(bases)]
            while time.perf_counter() < end:
                method, path, body, headers = requests[n % len(requests)]
                n += connections
                started = time.perf_counter()
                try:
                    async with session.request(method, base + path, data=body, headers=headers) as response:
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


def run_route(pool: Any, bases: list[str], requests: list[Request], connections: int, args: argparse.Namespace,
              server_pids: list[int]) -> dict[str, Any]:
    """Drive one route over ``connections`` to the servers at ``bases`` (in turn) from every client process,
    and sum up what they saw; ``server_pids``: the servers' processes, whose CPU time is counted."""
    per_client = [connections // args.clients + (i < connections % args.clients) for i in range(args.clients)]
    start_at = time.time() + 1.0  # every process starts together, after its imports
    jobs = [(bases, requests, n, start_at, args.warmup, args.seconds, i * 7) for i, n in enumerate(per_client) if n]
    waiting = pool.starmap_async(client, jobs)
    time.sleep(max(0.0, start_at + args.warmup - time.time()))
    cpu_before, wall_before = servers_cpu_seconds(server_pids), time.perf_counter()
    time.sleep(args.seconds)
    cpu_after, wall = servers_cpu_seconds(server_pids), time.perf_counter() - wall_before
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
