"""Displays: the headless log, rendering a creative, and choosing a window only where a GUI exists."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adlens.audience import Audience
from adlens.decision import CreativeSpec
from adlens.faces import Faces
from adlens.signage.display import HeadlessDisplay, OpenCVDisplay, choose_display, gui_unavailable, render


# --- displays ------------------------------------------------------------------------------
def test_headless_display_logs(fake_decider):
    lines = []
    display = HeadlessDisplay(lines.append)
    decider = fake_decider(ads=(("a", 5.0), (None, 0.0)))
    for _ in range(2):
        decision = decider.decide(Audience.from_faces(Faces.empty(), (640, 480), "door"))
        display.show(decision)
    assert lines == ["showing a/a-1 “ad a” for 5 s", "nothing eligible (fake)"]
    assert display.poll() is True


def test_render_letterboxes_the_image_with_its_caption(tmp_path):
    picture = tmp_path / "ad.png"
    cv2.imwrite(str(picture), np.full((100, 100, 3), 200, np.uint8))
    frame = render(CreativeSpec(image=str(picture), caption="Spring sale", duration=5.0), (320, 180))
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
    assert frame[90, 160].tolist() == [200, 200, 200] and frame[5, 5].tolist() == [0, 0, 0]
    assert frame[170:].max() == 255  # white caption text on the band
    missing = render(CreativeSpec(image=str(tmp_path / "gone.png"), caption=None, duration=5.0), (320, 180))
    assert missing.shape == (180, 320, 3) and missing[170:].max() == 255  # the error as caption


@pytest.mark.parametrize(
    ("gui", "env", "expected"),
    [("NONE", {"DISPLAY": ":0"}, "no GUI"), ("GTK3", {}, "no display"), ("GTK3", {"DISPLAY": ":0"}, None),
     ("QT5", {"WAYLAND_DISPLAY": "wayland-0"}, None)],
)
def test_gui_unavailable(monkeypatch, gui, env, expected):
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: f"  GUI:                           {gui}\n")
    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reason = gui_unavailable()
    assert reason is None if expected is None else expected in reason


@pytest.mark.parametrize(("show", "warned"), [(False, False), (None, False), (True, True)])
def test_choose_display_without_gui(monkeypatch, show, warned):
    monkeypatch.setattr("adlens.signage.display.gui_unavailable", lambda: "no GUI here")
    warnings = []
    display = choose_display(show, warn=warnings.append)
    assert isinstance(display, HeadlessDisplay)
    assert bool(warnings) is warned and (not warned or "no GUI here" in warnings[0])


def test_choose_display_with_gui(monkeypatch):
    monkeypatch.setattr("adlens.signage.display.gui_unavailable", lambda: None)
    monkeypatch.setattr(OpenCVDisplay, "__init__", lambda self: None)
    assert isinstance(choose_display(None), OpenCVDisplay)
    assert isinstance(choose_display(False), HeadlessDisplay)
