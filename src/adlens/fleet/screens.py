"""Live screens whose frames may reach any worker of a fleet: their state in Redis.

Each screen's state (:mod:`adlens.signage.livestate`, a few KiB) is one Redis value,
read, advanced by the frame and written back under a per-screen Redis lock, so two
workers never advance one screen at once. A sorted set holds each screen's latest
frame time: whichever worker sweeps first claims a screen silent for
``ADLENS_LIVE_SCREEN_TIMEOUT`` seconds, logs its playing ad and drops its state. The
values also expire on their own (:data:`TTL_FACTOR` × the timeout), in case no
worker is left to sweep. Times are wall-clock seconds: hosts of a fleet keep their
clocks in sync (NTP).

When Redis is unreachable a frame is handled with this worker's own state, as
without Redis (the screen continues on the workers its frames reach), and the outage
is logged once. A worker's shutdown leaves the shared screens to the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from adlens.fleet.client import Outage, redis_errors
from adlens.settings import Settings, get_settings
from adlens.signage import livestate
from adlens.signage.live import LiveResult, LiveScreens, ScreenState

if TYPE_CHECKING:
    from redis.lock import Lock

    from adlens.fleet.client import Fleet
    from adlens.protocols import EventLog, ImageAnalyzer
    from adlens.signage.loop import Decider

log = logging.getLogger("adlens.fleet")

#: A state unswept for this many timeouts expires in Redis by itself (its play is then not logged).
TTL_FACTOR = 4
#: Seconds a worker may hold a screen's lock (one frame's analysis) before another may take it.
LOCK_SECONDS = 30.0
#: Seconds between two sweeps for silent screens by one worker.
SWEEP_SECONDS = 1.0


def shared_screens(fleet: Fleet, timeout: float, now: float | None = None) -> int | None:
    """How many screens sent a frame in the last ``timeout`` seconds (wall clock ``now``) across the fleet;
    ``None`` when Redis cannot say."""
    since = (time.time() if now is None else now) - timeout
    try:
        return int(fleet.client.zcount(fleet.key("live", "seen"), since, "+inf"))
    except redis_errors():
        return None


class SharedLiveScreens(LiveScreens):
    """:class:`~adlens.signage.live.LiveScreens` with each screen's state in Redis (see the module docstring)."""

    def __init__(self, fleet: Fleet, decider: Decider, store: EventLog, analyzer: ImageAnalyzer,
                 settings: Settings | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(decider, store, analyzer, settings or get_settings(), clock)
        self.fleet = fleet
        self._errors = redis_errors()
        self.outage = Outage("live screens", "each worker keeps the state of the screens whose frames reach it")
        self._swept = float("-inf")

    @property
    def seen_key(self) -> str:
        """The sorted set of screens by the time of their latest frame."""
        return self.fleet.key("live", "seen")

    def _state_key(self, screen: str) -> str:
        return self.fleet.key("live", "screen", screen)

    def _screen_lock(self, screen: str) -> Lock:
        return self.fleet.client.lock(self.fleet.key("live", "lock", screen), timeout=LOCK_SECONDS,
                                      sleep=0.005, blocking_timeout=LOCK_SECONDS)

    def __len__(self) -> int:
        """Screens sending frames now, across the fleet (this worker's own while Redis is unreachable)."""
        usable = self.outage.usable()
        shared = shared_screens(self.fleet, self.settings.live_screen_timeout, self.clock()) if usable else None
        return super().__len__() + (shared or 0)

    def push(self, screen: str, image: np.ndarray) -> LiveResult:
        """Analyse one frame of ``screen`` with its shared state, and return what the screen should show now."""
        if not self.outage.usable():
            return super().push(screen, image)
        try:
            self._sweep()
            with self._screen_lock(screen):
                result = self._advance(screen, image)
        except self._errors as error:
            self.outage.failed(error)
            return super().push(screen, image)
        with self._lock:  # Redis is back: the state kept here during the outage ends
            local = self._screens.pop(screen, None)
        if local is not None:
            local.finish()
        return result

    def _advance(self, screen: str, image: np.ndarray) -> LiveResult:
        client, key = self.fleet.client, self._state_key(screen)
        data = client.get(key)
        now = self.clock()
        state = self._load(screen, data) if data is not None else None
        if state is None or now - state.last > self.settings.live_screen_timeout:
            if state is not None:  # silent too long, and not swept yet: its play ends where it fell silent
                state.finish()
            state = ScreenState(self.new_loop(screen), now)
        result = state.advance(image, now)
        ttl = max(int(TTL_FACTOR * self.settings.live_screen_timeout), 1)
        with client.pipeline(transaction=True) as pipe:
            pipe.set(key, livestate.dump(state), ex=ttl)
            pipe.zadd(self.seen_key, {screen: now})
            pipe.execute()
        self.outage.succeeded()
        return result

    def _load(self, screen: str, data: bytes | str) -> ScreenState | None:
        try:
            return livestate.load(data.encode() if isinstance(data, str) else data, self.new_loop(screen))
        except ValueError as error:
            log.warning("live screen %r: its stored state is unreadable (%s); it starts afresh", screen, error)
            return None

    def _sweep(self) -> None:
        """At most every :data:`SWEEP_SECONDS`: finish the screens silent past the timeout (see :meth:`expire`)."""
        now = time.monotonic()
        if now - self._swept >= SWEEP_SECONDS:
            self._swept = now
            self.expire()

    def expire(self) -> int:
        """Finish the screens (shared, and this worker's own) silent for longer than the timeout; how many."""
        gone = super().expire()
        if not self.outage.usable():
            return gone
        client, limit = self.fleet.client, self.settings.live_screen_timeout
        try:
            for raw in client.zrangebyscore(self.seen_key, "-inf", self.clock() - limit):
                screen = raw.decode() if isinstance(raw, bytes) else str(raw)
                with self._screen_lock(screen):
                    last = client.zscore(self.seen_key, screen)
                    if last is None or self.clock() - last <= limit:
                        continue  # another worker swept it, or a frame came meanwhile
                    data = client.get(self._state_key(screen))
                    state = self._load(screen, data) if data is not None else None
                    with client.pipeline(transaction=True) as pipe:
                        pipe.delete(self._state_key(screen))
                        pipe.zrem(self.seen_key, screen)
                        pipe.execute()
                if state is not None:
                    state.finish()
                    gone += 1
        except self._errors as error:
            self.outage.failed(error)
        return gone

    def close(self) -> None:
        """Finish this worker's own screens (kept while Redis was unreachable); the shared ones live on."""
        super().close()
