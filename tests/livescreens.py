"""Stand-ins for live-screen tests (tests/signage/test_live.py, tests/fleet/test_screens.py): a clock, an
analyser that sees one person, an event log, and frames."""

from __future__ import annotations

from typing import Any

import numpy as np

from adlens.errors import InvalidImageError
from adlens.events import PLAY
from adlens.signage.live import LiveResult, LiveScreens


#: One person at the same place in every frame: frames under the tracker's 2 s max age apart keep one id,
#: so the audience never changes and only an ad's end brings a new decision.
PERSON = [[100, 100, 80, 80]]


class Clock:
    """Monotonic seconds that the test sets."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Analyzer:
    """One person in every frame; a frame whose first pixel is 255 is broken."""

    def __init__(self, make_faces: Any) -> None:
        self.faces = make_faces(PERSON, [np.eye(8)[0]])
        self.embedder = object()
        self.images: list[np.ndarray] = []

    def analyze_array(self, image: np.ndarray) -> Any:
        self.images.append(image)
        if image[0, 0, 0] == 255:
            raise InvalidImageError("broken frame")
        return self.faces


class Store:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def append_event(self, event: Any) -> int:
        self.events.append(event)
        return len(self.events)

    def plays(self) -> list[tuple[str, str, float]]:
        """``(screen, ad, seconds)`` of each logged play."""
        return [(e.screen, e.ad_id, e.value) for e in self.events if e.kind == PLAY]


FRAME = np.zeros((48, 64, 3), np.uint8)
BROKEN = np.full((48, 64, 3), 255, np.uint8)


def push_at(screens: LiveScreens, clock: Clock, t: float, screen: str = "door", image: np.ndarray = FRAME
            ) -> LiveResult:
    clock.now = t
    return screens.push(screen, image)
