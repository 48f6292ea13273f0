"""Where the chosen creative appears: an OpenCV window where there is a GUI, else only a log line.

The project depends on ``opencv-python-headless``, whose build has no GUI; install
``opencv-python`` instead (and run where a display exists) to see ads in a window.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from adlens.decision.record import CreativeSpec, Decision
from adlens.errors import AdlensError
from adlens.imageio import load_image


class Display(Protocol):
    """Where the chosen creative appears."""

    def show(self, decision: Decision) -> None:
        """Show ``decision``'s creative (nothing when it has no ad)."""
        ...

    def poll(self) -> bool:
        """Keep the display alive; False when the viewer closed it (or pressed q)."""
        ...

    def close(self) -> None: ...


class HeadlessDisplay:
    """No screen: each decision becomes one log line."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self.log = log

    def show(self, decision: Decision) -> None:
        """Log what would be on screen."""
        if self.log is None:
            return
        spec = decision.creative_spec
        if decision.ad is None or spec is None:
            self.log(f"nothing eligible ({'; '.join(decision.reasons) or 'no ad'})")
            return
        self.log(f"showing {decision.ad}/{decision.creative}" + (f" “{spec.caption}”" if spec.caption else "")
                 + (f" for {spec.duration:g} s" if spec.duration else ""))

    def poll(self) -> bool:
        return True

    def close(self) -> None:
        return None


def render(creative_spec: CreativeSpec | None, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """The creative's picture letterboxed on a black ``size`` canvas, its caption on a band at the bottom
    (all black without a creative)."""
    width, height = size
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    caption = creative_spec.caption if creative_spec is not None else None
    if creative_spec is not None and creative_spec.image:
        try:
            image = load_image(creative_spec.image)
        except AdlensError as error:
            caption = error.message
        else:
            scale = min(width / image.shape[1], height / image.shape[0])
            w, h = max(int(image.shape[1] * scale), 1), max(int(image.shape[0] * scale), 1)
            x, y = (width - w) // 2, (height - h) // 2
            canvas[y:y + h, x:x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    if caption:
        band = max(height // 10, 24)
        canvas[height - band:] = (canvas[height - band:] * 0.3).astype(np.uint8)
        cv2.putText(canvas, str(caption), (band // 2, height - band // 3), cv2.FONT_HERSHEY_SIMPLEX,
                    band / 60, (255, 255, 255), max(band // 25, 1), cv2.LINE_AA)
    return canvas


class OpenCVDisplay:
    """A full-screen OpenCV window; q or Esc (or closing the window) stops the loop."""

    def __init__(self, window: str = "adlens", size: tuple[int, int] = (1280, 720)) -> None:
        self.window, self.size = window, size
        cv2.namedWindow(window, cv2.WINDOW_NORMAL)
        cv2.setWindowProperty(window, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)

    def show(self, decision: Decision) -> None:
        """Draw ``decision``'s creative full screen (black when it has none)."""
        cv2.imshow(self.window, render(decision.creative_spec, self.size))

    def poll(self) -> bool:
        key = cv2.waitKey(1) & 0xFF
        return key not in (ord("q"), 27) and cv2.getWindowProperty(self.window, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        cv2.destroyWindow(self.window)


def gui_unavailable() -> str | None:
    """Why no OpenCV window can open here, or ``None`` when one can."""
    info = cv2.getBuildInformation()
    gui = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.strip().startswith("GUI:")]
    if gui and gui[0].upper() == "NONE":
        return "this OpenCV build has no GUI (opencv-python-headless); install opencv-python for a window"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def choose_display(show: bool | None, log: Callable[[str], None] | None = None,
                   warn: Callable[[str], None] | None = None) -> Display:
    """A window when ``show`` is true or ``None`` and a GUI exists; otherwise headless (``warn``: why, when asked)."""
    if show is False:
        return HeadlessDisplay(log)
    reason = gui_unavailable()
    if reason is None:
        try:
            return OpenCVDisplay()
        except cv2.error as error:
            reason = f"cannot open a window: {error}"
    if show and warn is not None:
        warn(f"--show: {reason}; logging decisions only")
    return HeadlessDisplay(log)
