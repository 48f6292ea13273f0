"""Prometheus metrics of the service, served at ``/metrics``, and the access log.

Each app has its own registry (tests build many apps in one process). With several
workers (``adlens serve --workers N``), ``PROMETHEUS_MULTIPROC_DIR`` is set and
``/metrics`` adds up every worker's numbers (prometheus_client's multiprocess mode).
Every label has a bounded set of values: route templates, never the ids in paths;
the first :data:`MAX_SCREENS` screen ids, then ``other``; known methods, then ``other``.

The access log (logger ``adlens.access``) names each request by the same route
template, so it holds no customer, product or ad id, no query and no client address:
nothing in it needs erasing when a customer is erased.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Screens counted under their own id; decisions of any further screen are counted as ``other``.
MAX_SCREENS = 200
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

access_log = logging.getLogger("adlens.access")


def route_template(scope: Scope) -> str:
    """The route a request matched, as its template (``/v1/customers/{customer_id}``), or ``unmatched``:
    what labels and logs name a request by, never the ids in its path."""
    return getattr(scope.get("route"), "path", None) or "unmatched"


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
        self._screens: set[str] = set()
        self._lock = threading.Lock()
        # Labelled children by their labels: ``labels()`` takes a lock and builds a key on every call, and
        # every label set here is bounded (see the module docstring), so each is looked up once.
        self._children: dict[tuple[str, ...], tuple[Counter, Histogram]] = {}
        self._decided: dict[tuple[str, bool], Counter] = {}

    def decided(self, screen: str, chosen: bool) -> None:
        """Count a decision on ``screen`` (``other`` past the first :data:`MAX_SCREENS` screens)."""
        counter = self._decided.get((screen, chosen))
        if counter is None:
            with self._lock:
                if screen not in self._screens and len(self._screens) < MAX_SCREENS:
                    self._screens.add(screen)
                label = screen if screen in self._screens else "other"
            counter = self.decisions.labels(label, "yes" if chosen else "no")
            if label == screen:  # an ``other`` screen is not remembered: invented ids must cost no memory
                self._decided[(screen, chosen)] = counter
        counter.inc()

    def _route(self, name: str, method: str, status: int) -> tuple[Counter, Histogram]:
        """The request counter and latency histogram children of one route, method and status."""
        labels = (name, method, str(status))
        found = self._children.get(labels)
        if found is None:
            found = self._children[labels] = (self.requests.labels(*labels), self.latency.labels(name))
        return found

    def exposition(self) -> Response:
        """The Prometheus text of this process, or of every worker in multiprocess mode."""
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware timing, counting and logging every request under its route template
        (``/v1/ads/{ad_id}``, never the id itself, so the label set stays small and the log holds no ids)."""

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
                name = route_template(scope)
                method = scope["method"] if scope["method"] in METHODS else "other"
                seconds = time.perf_counter() - start
                count, latency = self._route(name, method, status)
                count.inc()
                latency.observe(seconds)
                access_log.info("%s %s %d %.0f ms", method, name, status, seconds * 1000)

        return timed
