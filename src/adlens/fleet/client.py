"""The one Redis client of a process, its key prefix, and how an outage is noticed and logged."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from adlens.errors import StoreError
from adlens.settings import Settings

if TYPE_CHECKING:
    import redis

log = logging.getLogger("adlens.fleet")

#: Seconds a Redis command (and a connection attempt) may take: rate limits are checked on every request.
TIMEOUT = 0.5
#: Seconds after a failure before Redis is tried again (meanwhile the process uses its own state).
RETRY_SECONDS = 2.0


class Fleet:
    """A Redis client shared by the parts of :mod:`adlens.fleet`, and the prefix of every key and channel.

    Build it with :func:`connect`.
    """

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def __repr__(self) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        return f"Fleet({kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}, {self.prefix!r})"

    def key(self, *parts: str) -> str:
        """The Redis key (or channel) named by ``parts`` under this deployment's prefix."""
        return self.prefix + ":".join(parts)

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()


def connect(settings: Settings) -> Fleet | None:
    """The fleet's Redis client for ``settings.redis_url``, or ``None`` when it is empty.

    Connects to nothing yet (each part connects on first use, and copes with an outage).
    :class:`~adlens.errors.StoreError` when redis-py is missing or the URL is not a Redis URL.
    """
    url = settings.redis_url.strip()
    if not url:
        return None
    try:
        import redis
    except ImportError as error:
        raise StoreError("ADLENS_REDIS_URL is set but redis-py is not installed: pip install 'adlens[redis]'") \
            from error
    try:
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT,
                                      health_check_interval=30)
    except ValueError as error:
        raise StoreError(f"invalid ADLENS_REDIS_URL: {error}") from error
    return Fleet(client, settings.redis_prefix)


def redis_errors() -> tuple[type[Exception], ...]:
    """What a Redis command raises when the server is unreachable or failing (for ``except``)."""
    import redis

    return (redis.RedisError, OSError)


class Outage:
    """Whether Redis is usable for one purpose: after a failure it is left alone for :data:`RETRY_SECONDS`.

    The first failure of an outage is logged as a warning, with what the process does
    instead (``fallback``), and the recovery once; failures in between are not.
    """

    def __init__(self, what: str, fallback: str, clock: Any = time.monotonic) -> None:
        self.what, self.fallback, self.clock = what, fallback, clock
        self.down_since: float | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def usable(self) -> bool:
        """Try Redis now? (Up, or down long enough to try again.)"""
        return self.down_since is None or self.clock() >= self._retry_at

    def failed(self, error: BaseException) -> None:
        """Note a failure: log it if it starts an outage, and wait before the next try."""
        with self._lock:
            now = self.clock()
            first = self.down_since is None
            if first:
                self.down_since = now
            self._retry_at = now + RETRY_SECONDS
        if first:
            log.warning("Redis is unreachable for %s (%s): %s until it is back", self.what, error, self.fallback)

    def succeeded(self) -> None:
        """Note a success: log the end of an outage."""
        if self.down_since is not None:
            with self._lock:
                since, self.down_since = self.down_since, None
            if since is not None:
                log.warning("Redis is back for %s after %.1f s", self.what, self.clock() - since)
