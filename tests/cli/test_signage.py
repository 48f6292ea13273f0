from __future__ import annotations

import json
import shutil
import uuid

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from adlens.cli.signage import signage
from adlens.decision import CreativeSpec, Decision

app = typer.Typer()
app.command()(signage)


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


class OneAdDecider:
    """Always the ad ``a`` for 1 s (the real Decider is tested end to end below and in tests/signage)."""

    def __init__(self, analyzer):
        self.analyzer = analyzer

    def audience(self, faces, frame_size, screen, at=None):
        from adlens.audience import Audience

        return Audience.from_faces(faces, frame_size, screen, at)

    def decide(self, audience, *, source="image", person_key=None, shown_to=None, log=True):
        return Decision(uuid.uuid4().hex, audience.at, audience.screen, audience.summary(), ad="a", creative="a-1",
                        creative_spec=CreativeSpec(image="", duration=1.0, caption="A"), reasons=("fake",))


@pytest.fixture()
def fake_decider(monkeypatch, analyzer):
    monkeypatch.setattr("adlens.cli.signage._make_decider", lambda store, settings: OneAdDecider(analyzer))


@pytest.fixture()
def frames(tmp_path, faces_small):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, name in enumerate(["obama-240p.jpg", "two_people.jpg", "lin-manuel-miranda.png"]):
        shutil.copy(faces_small / name, folder / f"{2 * i}{name[-4:]}")
    (folder / "1.jpg").write_text("not a picture")
    return folder


def test_frames_folder(data_dir, fake_decider, frames, tmp_path):
    summary_file = tmp_path / "summary.json"
    result = run("--frames", str(frames), "--screen", "hall", "--json", str(summary_file))
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "1.jpg" in result.output
    assert "showing a/a-1" in result.output  # headless: the decisions are logged
    for row in ("decisions", "plays", "people tracked", "bad frames", "frames dropped"):
        assert row in result.output
    summary = json.loads(summary_file.read_text())
    assert summary["screen"] == "hall"
    assert (summary["frames_read"], summary["frames_analysed"], summary["bad_frames"]) == (4, 3, 1)
    assert summary["frames_dropped"] == 0  # not --realtime: every frame is analysed however long it takes
    assert summary["tracks"] == 3 and summary["plays"] == summary["decisions"] >= 2
    from adlens.store import open_store

    store = open_store()
    try:
        assert len(store.events(kinds=["play"], screen="hall")) == summary["plays"]
    finally:
        store.close()


@pytest.mark.parametrize("in_flight", ["1", "2"])
def test_max_frames_and_every(data_dir, fake_decider, frames, tmp_path, in_flight):
    result = run("--frames", str(frames), "--max-frames", "3", "--every", "2", "--json", str(tmp_path / "s.json"),
                 "--in-flight", in_flight)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["frames_read"], summary["frames_analysed"]) == (3, 2)


def test_show_without_a_gui_warns(data_dir, fake_decider, frames, monkeypatch):
    monkeypatch.setattr("adlens.signage.display.gui_unavailable", lambda: "no GUI here")
    result = run("--frames", str(frames), "--max-frames", "1", "--show")
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "no GUI here" in result.output


def test_nothing_readable_exits_1(data_dir, fake_decider, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"")
    result = run("--frames", str(folder))
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "exactly one"), (["--camera", "0", "--frames", "FRAMES"], "exactly one"),
     (["--video", "TEXT"], "cannot open"), (["--frames", "MISSING"], "no such folder"),
     (["--frames", "FRAMES", "--fps", "0"], "fps")],
)
def test_usage_errors(data_dir, tmp_path, frames, args, message):
    (tmp_path / "clip.avi").write_text("not a video")
    places = {"FRAMES": str(frames), "TEXT": str(tmp_path / "clip.avi"), "MISSING": str(tmp_path / "nope")}
    result = run(*[places.get(a, a) for a in args])
    assert result.exit_code == 2 and message in result.output


def test_help_says_a_window_needs_a_gui():
    result = run("--help")
    assert result.exit_code == 0
    assert "--camera" in result.output and "opencv-python-headless" in result.output


def test_video_with_the_real_decider(data_dir, tmp_path, faces_small):
    """``adlens signage --video`` with the real decision engine (skipped until it exists); no ads: no plays."""
    decision = pytest.importorskip("adlens.decision")
    if not hasattr(decision, "Decider"):
        pytest.skip("adlens.decision has no Decider yet")
    from adlens.imageio import load_image

    frame = cv2.resize(load_image(faces_small / "obama-480p.jpg"), (640, 360))
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 2.0, (640, 360))
    for _ in range(4):
        writer.write(frame)
    writer.release()
    result = run("--video", str(video), "--json", str(tmp_path / "s.json"))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["frames_analysed"] == 4 and summary["decisions"] >= 1 and summary["tracks"] == 1
    assert summary["plays"] == 0 and "nothing eligible" in result.output
    assert np.isclose(sum(summary["seconds_by_ad"].values()), 0.0)


@pytest.mark.parametrize("in_flight", [1, 2])
def test_frames_in_flight_share_the_cores(data_dir, analyzer, frames, monkeypatch, in_flight):
    from adlens.runtime import available_cores

    given = []
    monkeypatch.setattr("adlens.cli.signage._make_decider",
                        lambda store, settings: given.append(settings) or OneAdDecider(analyzer))
    assert run("--frames", str(frames), "--in-flight", str(in_flight)).exit_code == 0
    assert given[0].ort_threads == (0 if in_flight == 1 else max(1, available_cores() // 2))
