"""Request limits: the size of a request body and the time it takes to arrive, and how fast each API key
(and each client address failing to give one) may send requests."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adlens.errors import AdlensError, RateLimitedError, RequestTimeoutError, UploadTooLargeError


class RateLimiter:
    """A token bucket per name (an API key, a client address): ``rate`` a second on average, ``burst`` at once.

    Rate 0 is no limit. At most ``max_names`` buckets are kept: past that, full ones
    (idle long enough to have refilled) are forgotten, so invented names cost no memory.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic, *,
                 what: str = "this API key", max_names: int = 100_000) -> None:
        self.rate, self.burst, self.clock = float(rate), max(int(burst), 1), clock
        self.what, self.max_names = what, max_names
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        """True when checking a name touches nothing outside this process (no I/O): it may run on the event
        loop. A limiter shared in Redis (:mod:`adlens.api.shared_limits`) is not, unless its rate is 0."""
        return True

    def _tokens(self, name: str, now: float) -> float:
        tokens, last = self._buckets.get(name, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate)

    def _refuse(self, tokens: float) -> RateLimitedError:
        wait = (1.0 - tokens) / self.rate
        return RateLimitedError(f"too many requests for {self.what}: at most {self.rate:g} per second "
                                f"(bursts of {self.burst}); retry in {wait:.1f} s", retry_after=wait)

    def check(self, name: str) -> None:
        """:class:`~adlens.errors.RateLimitedError` when ``name`` has no token left, without taking one."""
        if self.rate <= 0:
            return
        with self._lock:
            tokens = self._tokens(name, self.clock())
        if tokens < 1.0:
            raise self._refuse(tokens)

    def hit(self, name: str) -> None:
        """Take one token for ``name``; :class:`~adlens.errors.RateLimitedError` when none is left."""
        if self.rate <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens = self._tokens(name, now)
            if name not in self._buckets and len(self._buckets) >= self.max_names:
                self._forget_full(now)
            if tokens < 1.0:
                self._buckets[name] = (tokens, now)
                raise self._refuse(tokens)
            self._buckets[name] = (tokens - 1.0, now)

    def admit(self, name: str, after: tuple[RateLimiter, str] | None = None) -> None:
        """:meth:`hit` ``name``, once ``after`` (another limiter and one of its names) is :meth:`check`-ed:
        nothing is taken when either refuses. (Shared in Redis, both are one round trip.)"""
        if after is not None:
            after[0].check(after[1])
        self.hit(name)

    def _forget_full(self, now: float) -> None:
        self._buckets = {n: (t, last) for n, (t, last) in self._buckets.items()
                         if t + (now - last) * self.rate < self.burst}
        if len(self._buckets) >= self.max_names:  # a flood of names: forgetting them all is still bounded
            self._buckets.clear()


class BodySizeLimit:
    """ASGI middleware: a request body over its limit is refused with 413, one too slow with 408.

    JSON bodies (audience JSON, feedback…) have a smaller limit than uploads, so a huge
    JSON document is never parsed whole. A declared ``Content-Length`` over the limit is
    refused at once; a body sent without one (chunked) is counted as it arrives and cut
    off once it passes the limit. The whole body must arrive within ``timeout`` seconds
    of the first read, so slow clients cannot hold connections open for ever.
    """

    def __init__(self, app: ASGIApp, limit: int, json_limit: int | None = None, timeout: float = 60.0) -> None:
        self.app, self.limit, self.timeout = app, limit, timeout
        self.json_limit = min(limit, json_limit) if json_limit else limit

    def _limit_of(self, headers: dict[bytes, bytes]) -> tuple[int, str]:
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind == b"application/json" or kind.endswith(b"+json"):
            return self.json_limit, "ADLENS_MAX_JSON_BYTES"
        return self.limit, "ADLENS_MAX_UPLOAD_BYTES"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit, setting = self._limit_of(headers)
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse(send, BodyTooLargeError(limit, setting))
            return
        seen = 0
        deadline: float | None = None
        finished = started = False

        async def bounded_receive() -> Message:
            nonlocal seen, deadline, finished
            if finished:  # the body is in: what follows is a wait for the client to leave
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + self.timeout
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise BodyTimeoutError(self.timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit, setting)
                finished = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except (BodyTooLargeError, BodyTimeoutError) as error:
            if not started:
                await _refuse(send, error)


async def _refuse(send: Send, error: AdlensError) -> None:
    """Answer ``error`` as every adlens error is answered, and close the connection (the body is left unread)."""
    body = json.dumps(error.to_dict()).encode()
    await send({"type": "http.response.start", "status": error.http_status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLargeError(UploadTooLargeError):
    """Raised while a body is read, once it passes the limit (the error handlers answer 413)."""

    def __init__(self, limit: int, setting: str = "ADLENS_MAX_UPLOAD_BYTES") -> None:
        super().__init__(f"the request body is larger than {limit:,} bytes ({setting})")


class BodyTimeoutError(RequestTimeoutError):
    """Raised while a body is read, once it has taken longer than allowed (answered 408)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"the request body took longer than {timeout:g} s to arrive (ADLENS_API_BODY_TIMEOUT)")
