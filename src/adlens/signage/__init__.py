"""Digital signage: a camera (or video, or folder of frames) in front of a screen, ads chosen live.

:func:`open_source` gives the frames, :class:`Tracker` follows the faces across them,
and :class:`SignageLoop` asks the decision engine for an ad whenever the audience
changes or the ad ends, shows it through a :class:`Display` and logs ``play`` events.
The names below are imported on first use (the tracker loads SciPy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adlens.lazy import lazy_attributes

if TYPE_CHECKING:
    from adlens.signage.display import Display, HeadlessDisplay, OpenCVDisplay, choose_display, gui_unavailable, render
    from adlens.signage.loop import SignageLoop, SignageSummary
    from adlens.signage.sources import Frame, FrameSource, open_source
    from adlens.signage.tracking import Track, Tracker, iou_matrix

__getattr__ = lazy_attributes(__name__, {
    **dict.fromkeys(["Display", "HeadlessDisplay", "OpenCVDisplay", "choose_display", "gui_unavailable", "render"],
                    ".display"),
    "SignageLoop": ".loop", "SignageSummary": ".loop",
    "Frame": ".sources", "FrameSource": ".sources", "open_source": ".sources",
    "Track": ".tracking", "Tracker": ".tracking", "iou_matrix": ".tracking",
})

__all__ = [
    "Display", "Frame", "FrameSource", "HeadlessDisplay", "OpenCVDisplay", "SignageLoop", "SignageSummary",
    "Track", "Tracker", "choose_display", "gui_unavailable", "iou_matrix", "open_source", "render",
]
