"""How ``adlens serve`` runs the app under uvicorn: connection limits and the logs.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` seconds but
waits for ever on a client that sends its request line and headers slowly, and its
httptools parser takes headers of any size; the HTTP protocol here closes a
connection whose headers have not all arrived within ``ADLENS_API_HEADER_TIMEOUT``
and refuses a request line and headers over :data:`MAX_HEADER_BYTES` (bodies are
bounded by :class:`~adlens.api.limits.BodySizeLimit`). uvicorn's own access log, which writes
whole paths (customer ids included) and client addresses, is off: adlens logs each
request by its route template instead (:mod:`adlens.api.metrics`).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG

try:  # the protocol uvicorn picks by default ("auto"): httptools when installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Protocol
except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Protocol  # type: ignore[assignment]

#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_SECONDS = 5
#: The longest request line and headers, together (h11, when it is the parser, has its own 16 KiB bound).
MAX_HEADER_BYTES = 64 * 1024


class HeaderTimeoutProtocol(_Protocol):
    """uvicorn's HTTP protocol, closing a connection whose next request's headers take too long or are too long.

    The clock starts when the connection opens and again after each response; it is
    disarmed once a request's headers are complete (its body has its own limit).
    """

    header_timeout: float | None = None
    _header_bytes = 0

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value))
        super().on_header(name, value)

    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:  # the parser answers 400 and closes the connection
            raise ValueError(f"request line and headers over {MAX_HEADER_BYTES} bytes")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timeout()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timeout()

    def connection_lost(self, exc: Exception | None) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timeout(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        waiting_after = self.cycle  # a new cycle starts once the next request's headers are complete

        def expire() -> None:
            if self.cycle is waiting_after and not self.transport.is_closing():
                self.transport.close()

        self._header_timer = self.loop.call_later(self.timeout(), expire)

    def timeout(self) -> float:
        """Seconds the headers may take: :attr:`header_timeout`, else ``ADLENS_API_HEADER_TIMEOUT``."""
        if self.header_timeout is not None:
            return self.header_timeout
        from adlens.settings import get_settings

        return get_settings().api_header_timeout


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with adlens's loggers (``adlens``, ``adlens.access``) on stderr."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["adlens"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def uvicorn_options(log_level: str) -> dict[str, Any]:
    """The options ``adlens serve`` gives :func:`uvicorn.run` besides the app, host, port and workers."""
    return {"http": HeaderTimeoutProtocol, "timeout_keep_alive": KEEP_ALIVE_SECONDS, "access_log": False,
            "log_config": log_config(log_level), "log_level": log_level, "proxy_headers": False,
            "server_header": False}
