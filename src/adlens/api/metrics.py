"""Prometheus metrics of the service, served at ``/metrics``.

Each app has its own registry (tests build many apps in one process). With several
workers (``adlens serve --workers N``), ``PROMETHEUS_MULTIPROC_DIR`` is set and
``/metrics`` adds up every worker's numbers (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
import time
from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Request counts and latencies per route, decisions per screen and faces analysed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("adlens_http_requests", "HTTP requests by route, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("adlens_http_request_duration_seconds", "Time to answer a request, by route.",
                                 ["route"], buckets=BUCKETS, registry=self.registry)
        self.decisions = Counter("adlens_decisions", "Ad decisions by screen and whether an ad was chosen.",
                                 ["screen", "chosen"], registry=self.registry)
        self.faces = Counter("adlens_faces_analysed", "Faces found in images posted to the API.",
                             registry=self.registry)

    def exposition(self) -> Response:
        """The Prometheus text of this process, or of every worker in multiprocess mode."""
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware timing and counting every request under its route template
        (``/v1/ads/{ad_id}``, never the id itself, so the label set stays small)."""

        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start = time.perf_counter()
            status = 500

            async def capture(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                name = getattr(scope.get("route"), "path", None) or "unmatched"
                self.requests.labels(name, scope["method"], str(status)).inc()
                self.latency.labels(name).observe(time.perf_counter() - start)

        return timed
