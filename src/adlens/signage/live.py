"""Screens driven from outside, one frame at a time: the ``/screen`` page's camera.

A :class:`LiveScreens` keeps one :class:`~adlens.signage.loop.SignageLoop` per screen
id, so frames posted by a browser get exactly what ``adlens signage`` gives a camera:
people followed across frames, an ad that changes only when its time is over or the
audience changed (never flapping every second), and one ``play`` event per ad shown.
Frames are analysed in memory and dropped; nothing of them is kept. A screen that
stops sending frames for ``ADLENS_LIVE_SCREEN_TIMEOUT`` seconds has its play logged
and its state dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from adlens.settings import Settings, get_settings
from adlens.signage.loop import Decider, Decision, SignageLoop
from adlens.signage.sources import Frame, FrameSource

if TYPE_CHECKING:
    from adlens.protocols import EventLog, ImageAnalyzer

#: What decision events from a live screen name as their source.
SOURCE = "live"


@dataclass(frozen=True)
class LiveResult:
    """The ad on a live screen after one frame: the decision, whether it is new, seconds left of it."""

    decision: Decision | None
    new: bool
    remaining: float


class ScreenState:
    """One live screen: its signage loop, when its first and latest frames came, and how many came."""

    def __init__(self, loop: SignageLoop, started: float, last: float | None = None, frames: int = 0) -> None:
        self.loop, self.started = loop, started
        self.last = started if last is None else last
        self.frames = frames
        self.lock = threading.Lock()

    def advance(self, image: np.ndarray, now: float) -> LiveResult:
        """Analyse ``image``, this screen's frame at ``now``, and return what the screen should show."""
        with self.lock:
            self.last = now
            before = self.loop.play
            frame = Frame(index=self.frames, t=now - self.started, image=image, name=f"frame {self.frames}")
            self.frames += 1
            self.loop.step(frame)
            play = self.loop.play
        if play is None:
            return LiveResult(None, before is not None, 0.0)
        remaining = max(play.duration - (frame.t - play.started), 0.0)
        return LiveResult(play.decision, play is not before, round(remaining, 3))

    def finish(self) -> None:
        """Log the playing ad's play (the last frame stayed on screen until the screen fell silent)."""
        with self.lock:
            self.loop.end_play(self.last - self.started)
            self.loop.tracker.finish()


class LiveScreens:
    """Per-screen signage state for frames pushed one by one (thread-safe), in this process.

    (:class:`adlens.fleet.screens.SharedLiveScreens` keeps it in Redis for a fleet of workers.)

    Args:
        decider: the decision engine (shared by every screen).
        store: where play events go.
        analyzer: the loaded vision pipeline, with embeddings (the tracker needs them).
        settings: ``live_screen_timeout``, ``ad_duration``, ``adult_age``.
        clock: seconds, monotonic in one process (tests pass their own).
    """

    def __init__(self, decider: Decider, store: EventLog, analyzer: ImageAnalyzer, settings: Settings | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.decider, self.store, self.analyzer = decider, store, analyzer
        self.settings = settings or get_settings()
        self.clock = clock
        self._screens: dict[str, ScreenState] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._screens)

    def new_loop(self, screen: str) -> SignageLoop:
        """A fresh signage loop for ``screen`` (no one seen yet, nothing playing)."""
        return SignageLoop(FrameSource(f"screen {screen}", fps=0.0), self.decider, self.store, screen,
                           self.settings, analyzer=self.analyzer, decision_source=SOURCE)

    def push(self, screen: str, image: np.ndarray) -> LiveResult:
        """Analyse one frame of ``screen`` and return what the screen should show now."""
        self.expire()
        now = self.clock()
        with self._lock:
            state = self._screens.get(screen)
            if state is None:
                state = self._screens[screen] = ScreenState(self.new_loop(screen), now)
        return state.advance(image, now)

    def expire(self) -> int:
        """Drop screens silent for longer than the timeout, logging their plays; returns how many."""
        now = self.clock()
        limit = self.settings.live_screen_timeout
        with self._lock:
            gone = [(name, s) for name, s in self._screens.items() if now - s.last > limit]
            for name, _ in gone:
                del self._screens[name]
        for _, state in gone:
            state.finish()
        return len(gone)

    def close(self) -> None:
        """Log every screen's playing ad and forget all screens (at shutdown)."""
        with self._lock:
            states, self._screens = list(self._screens.values()), {}
        for state in states:
            state.finish()
