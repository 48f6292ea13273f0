"""A camera read in the background, newest frame kept: the signage loop never works on the past.

A camera delivers frames at its own pace whether anyone reads them or not, and the driver
queues what is not read: a reader slower than the camera gets frames ever older.
:class:`LatestFrame` reads them in a thread as they come and keeps only the newest one,
numbered and timed when read; the loop takes the newest whenever it is ready for one, and
the frames it never saw are counted as dropped by the source.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

#: Consecutive failed reads after which a camera counts as gone (a single one is often transient).
CAMERA_RETRIES = 5
#: How long closing waits for a read in progress before releasing the camera anyway.
STOP_WAIT_S = 2.0

#: A frame read from the camera: its number (from 0), seconds since reading started, BGR pixels.
Numbered = tuple[int, float, np.ndarray]


class LatestFrame:
    """A ``cv2.VideoCapture`` (or anything with its ``read()``) read by a thread that keeps the newest frame.

    Args:
        capture: the opened camera.
        clock: monotonic seconds, for the frames' times.

    Attributes:
        problem: why reading stopped (the camera stopped delivering, or OpenCV failed), else None.
    """

    def __init__(self, capture: cv2.VideoCapture, clock: Callable[[], float] = time.monotonic) -> None:
        self.capture, self.clock = capture, clock
        self.problem: str | None = None
        self._latest: Numbered | None = None
        self._count = 0
        self._ended = False
        self._stop = threading.Event()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def take(self, first: int) -> Numbered | None:
        """The newest frame numbered ``first`` or later, waiting for one; None once the camera stopped.

        Reading starts with the first call."""
        if self._thread is None:
            self._started = self.clock()
            self._thread = threading.Thread(target=self._run, name="adlens-camera", daemon=True)
            self._thread.start()
        with self._ready:
            self._ready.wait_for(lambda: self._ended or (self._latest is not None and self._latest[0] >= first))
            latest = self._latest
            return latest if latest is not None and latest[0] >= first else None

    def stop(self) -> None:
        """Stop reading (idempotent); the caller releases the camera afterwards."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                ok, image = self.capture.read()
                if ok and image is not None:
                    failures = 0
                    frame = (self._count, self.clock() - self._started, np.ascontiguousarray(image))
                    with self._ready:
                        self._latest, self._count = frame, self._count + 1
                        self._ready.notify_all()
                    continue
                failures += 1
                if failures > CAMERA_RETRIES:
                    self.problem = f"stopped delivering frames after {self._count} frames"
                    return
        except cv2.error as error:
            self.problem = f"failed after {self._count} frames ({error})"
        finally:
            with self._ready:
                self._ended = True
                self._ready.notify_all()
