"""Where the signage loop's frames come from: a camera, a video file or a folder of images.

:func:`open_source` opens exactly one of the three and returns a :class:`FrameSource`,
an iterator of :class:`Frame` objects (index, time since the start, BGR pixels, name).
Frames that are not analysed (``every``) are skipped cheaply (``grab()`` without
decoding); a folder image that cannot be read is reported in :attr:`FrameSource.problems`
and skipped, never raised.

A source never falls behind the world it shows. A camera is read by a thread that keeps
only the newest frame (:class:`~adlens.signage.camera.LatestFrame`), so a slow analysis
gets the present, not a queue of the past. A video or folder played ``realtime`` is paced
by a clock: it waits for a frame's time, and skips (unread) a frame whose successor is
already due. Either way the frames passed over are counted in :attr:`FrameSource.dropped`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import cv2
import numpy as np

from adlens.errors import AdlensError, InvalidInputError
from adlens.imageio import IMAGE_EXTENSIONS, load_image
from adlens.signage.camera import LatestFrame

Clock = Callable[[], float]


@dataclass(frozen=True)
class Frame:
    """One analysed frame: its position in the source, its time (s since the start) and its pixels."""

    index: int
    t: float
    image: np.ndarray
    name: str


class FrameSource:
    """Frames of one source, in order; a context manager that closes the source.

    Attributes:
        name: what the source is, for messages (``camera 0``, a file or folder path).
        fps: frames per second (0.0 when a camera does not say).
        every: only every Nth frame is yielded (and, but from a camera, decoded).
        max_frames: stop after this many frames of the source (skipped ones count).
        realtime: pace the frames by ``clock`` at ``fps``, dropping the late ones (a camera is always
            real time; this is for a video or folder played as if it were one; without an ``fps``, no effect).
        clock, sleep: monotonic seconds and how to wait (tests pass their own).
        read: frames taken from the source so far (skipped, dropped and bad ones included).
        dropped: frames that would have been analysed but were passed over because a newer one was due.
        bad: frames that could not be decoded.
        problems: one message per bad frame (also passed to ``on_problem``).
    """

    def __init__(self, name: str, fps: float, every: int = 1, max_frames: int | None = None,
                 on_problem: Callable[[str], None] | None = None, *, realtime: bool = False,
                 clock: Clock = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if every < 1:
            raise InvalidInputError(f"every must be at least 1, got {every}")
        if max_frames is not None and max_frames < 1:
            raise InvalidInputError(f"max_frames must be at least 1, got {max_frames}")
        self.name, self.fps, self.every, self.max_frames = name, fps, every, max_frames
        self.on_problem = on_problem
        self.realtime, self.clock, self.sleep = realtime, clock, sleep
        self.read = self.bad = self.dropped = 0
        self.problems: list[str] = []
        self._started: float | None = None

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, max_frames: int | None = None) -> Iterator[Frame]:
        """The frames to analyse, stopping after ``max_frames`` (or the source's own limit) frames read."""
        limit = self._limit(max_frames)
        for index in self._indices():
            if limit is not None and index >= limit:
                return
            late = not index % self.every and self._late(index)
            if index % self.every or late:
                if not self._skip(index):
                    return
                self.read += 1
                self.dropped += late
                continue
            frame = self._read(index)
            if frame is False:
                return
            self.read += 1
            if frame is not None:
                yield frame

    def _limit(self, max_frames: int | None) -> int | None:
        limits = [n for n in (self.max_frames, max_frames) if n is not None]
        return min(limits) if limits else None

    def _late(self, index: int) -> bool:
        """Real time only: wait for frame ``index``'s time, or True (drop it) when the next frame to analyse
        is already due."""
        if not self.realtime or self.fps <= 0:
            return False
        if self._started is None:
            self._started = self.clock()
        now = self.clock() - self._started
        if now >= (index + self.every) / self.fps:
            return True
        if now < index / self.fps:
            self.sleep(index / self.fps - now)
        return False

    def report(self, message: str) -> None:
        """Record a bad frame (it is skipped, the run goes on)."""
        self.bad += 1
        self.problems.append(message)
        if self.on_problem is not None:
            self.on_problem(message)

    def close(self) -> None:
        """Release the source (idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- what each kind of source fills in ------------------------------------------
    def _indices(self) -> Iterator[int]:
        raise NotImplementedError

    def _skip(self, index: int) -> bool:
        """Pass over frame ``index`` without decoding it; False at the end of the source."""
        return True

    def _read(self, index: int) -> Frame | Literal[False] | None:
        """Frame ``index``, ``None`` for a bad one (reported), False at the end of the source."""
        raise NotImplementedError


class CaptureSource(FrameSource):
    """A video file or a camera read through ``cv2.VideoCapture``; a camera (``live``) through a :class:`LatestFrame`."""

    def __init__(self, capture: cv2.VideoCapture, name: str, live: bool, **options: Any) -> None:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        super().__init__(name, fps if np.isfinite(fps) and fps > 0 else 0.0, **options)
        self.capture, self.live = capture, live
        self.latest = LatestFrame(capture, self.clock) if live else None

    def frames(self, max_frames: int | None = None) -> Iterator[Frame]:
        """As :meth:`FrameSource.frames`; from a camera, the newest frame each time (the ones passed over
        beyond ``every`` count as dropped)."""
        if self.latest is None:
            yield from super().frames(max_frames)
            return
        limit, last = self._limit(max_frames), -self.every
        while (got := self.latest.take(last + self.every)) is not None:
            index, t, image = got
            if limit is not None and index >= limit:
                self.read = limit
                return
            self.read, self.dropped, last = index + 1, self.dropped + index - last - self.every, index
            yield Frame(index, t, image, f"{self.name}#{index}")
        if self.latest.problem:
            self.report(f"{self.name} {self.latest.problem}")

    def _indices(self) -> Iterator[int]:
        return itertools.count()

    def _skip(self, index: int) -> bool:
        return bool(self.capture.grab())

    def _read(self, index: int) -> Frame | Literal[False] | None:
        ok, image = self.capture.read()
        if not ok or image is None:
            return False  # a video file ends at its first unreadable frame
        return Frame(index, self._time(index), np.ascontiguousarray(image), f"{self.name}#{index}")

    def _time(self, index: int) -> float:
        if self.fps > 0:
            return index / self.fps
        return float(self.capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000.0

    def close(self) -> None:
        if self.latest is not None:
            self.latest.stop()
        self.capture.release()


class FolderSource(FrameSource):
    """The images of a folder, sorted by name, shown ``fps`` per second."""

    def __init__(self, folder: Path, fps: float, **options: Any) -> None:
        super().__init__(str(folder), fps, **options)
        self.files = sorted((p for p in folder.iterdir()
                             if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS),
                            key=lambda p: p.name)
        if not self.files:
            raise InvalidInputError(f"no image files in {folder}")

    def _indices(self) -> Iterator[int]:
        return iter(range(len(self.files)))

    def _read(self, index: int) -> Frame | Literal[False] | None:
        path = self.files[index]
        try:
            image = load_image(path)
        except AdlensError as error:
            self.report(f"{path.name}: {error.message}")
            return None
        return Frame(index, index / self.fps, image, path.name)


def open_source(
    camera: int | None = None,
    video: Path | None = None,
    frames: Path | None = None,
    *,
    fps: float | None = None,
    every: int = 1,
    max_frames: int | None = None,
    on_problem: Callable[[str], None] | None = None,
    realtime: bool = False,
) -> FrameSource:
    """Open exactly one of a camera index, a video file or a folder of frames.

    ``fps`` sets the pace of a folder (default 1 frame per second) and overrides a
    video's own rate when given; ``every`` analyses every Nth frame; ``max_frames``
    stops after that many frames of the source; ``realtime`` plays a video or folder
    at its pace, dropping the frames analysis is too slow for, as a camera does. Raises
    :class:`~adlens.errors.InvalidInputError` for no source or several, a missing
    path, or a video or camera that cannot be opened.
    """
    given = [name for name, value in (("--camera", camera), ("--video", video), ("--frames", frames))
             if value is not None]
    if len(given) != 1:
        raise InvalidInputError(
            "give exactly one of --camera, --video or --frames" + (f" (got {', '.join(given)})" if given else ""))
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise InvalidInputError(f"fps must be a positive number, got {fps}")
    if every < 1 or (max_frames is not None and max_frames < 1):
        raise InvalidInputError(f"every and max_frames must be at least 1, got {every} and {max_frames}")
    options: dict[str, Any] = {"every": every, "max_frames": max_frames, "on_problem": on_problem,
                               "realtime": realtime}
    if frames is not None:
        if not Path(frames).is_dir():
            raise InvalidInputError(f"{frames}: no such folder")
        return FolderSource(Path(frames), fps or 1.0, **options)
    if video is not None:
        if not Path(video).is_file():
            raise InvalidInputError(f"{video}: no such file")
        capture = cv2.VideoCapture(str(video))
        name, live = str(video), False
    else:
        if camera < 0:  # type: ignore[operator]
            raise InvalidInputError(f"camera index must be 0 or more, got {camera}")
        capture = cv2.VideoCapture(int(camera))  # type: ignore[arg-type]
        name, live = f"camera {camera}", True
    if not capture.isOpened():
        capture.release()
        what = f"cannot open {name} as a video (unknown format or codec?)" if video else f"cannot open {name}"
        raise InvalidInputError(what)
    source = CaptureSource(capture, name, live, **options)
    if fps is not None:
        source.fps = float(fps)
    return source
