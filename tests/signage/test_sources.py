from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.signage.sources import CaptureSource, open_source


def numbered_frames(n: int, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """Grey frames whose brightness tells their index (20 × index)."""
    return [np.full((size[1], size[0], 3), 20 * i, dtype=np.uint8) for i in range(n)]


@pytest.fixture()
def small_video(tmp_path, make_video):
    return make_video(tmp_path / "ten.avi", numbered_frames(10), fps=5.0)


@pytest.fixture()
def frame_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, image in enumerate(numbered_frames(4)):
        cv2.imwrite(str(folder / f"f{3 - i:02d}.png"), image)  # names sort in reverse of brightness
    (folder / "f01b.jpg").write_text("not a picture")
    (folder / "notes.txt").write_text("ignored: not an image extension")
    return folder


@pytest.mark.parametrize(
    ("every", "max_frames", "indices"),
    [(1, None, list(range(10))), (3, None, [0, 3, 6, 9]), (1, 4, [0, 1, 2, 3]), (2, 5, [0, 2, 4])],
)
def test_video_frames_times_and_skips(small_video, every, max_frames, indices):
    with open_source(video=small_video, every=every, max_frames=max_frames) as source:
        frames = list(source)
        assert source.fps == pytest.approx(5.0)
        assert source.read == (max_frames or 10) and source.bad == 0
    assert [f.index for f in frames] == indices
    assert [f.t for f in frames] == pytest.approx([i / 5.0 for i in indices])
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    # the pixels are those of the frame at that index (MJPG is lossy: near, not equal)
    assert [int(round(f.image.mean() / 20)) for f in frames] == indices


def test_frames_limit_of_one_call(small_video):
    with open_source(video=small_video) as source:
        assert [f.index for f in source.frames(max_frames=3)] == [0, 1, 2]


def test_fps_option_overrides_video_rate(small_video):
    with open_source(video=small_video, fps=10.0) as source:
        assert [f.t for f in source][:3] == pytest.approx([0.0, 0.1, 0.2])


def test_folder_in_name_order_bad_file_skipped(frame_folder):
    problems = []
    with open_source(frames=frame_folder, fps=2.0, on_problem=problems.append) as source:
        frames = list(source)
    assert [f.name for f in frames] == ["f00.png", "f01.png", "f02.png", "f03.png"]
    assert [f.index for f in frames] == [0, 1, 3, 4]
    assert [f.t for f in frames] == pytest.approx([0.0, 0.5, 1.5, 2.0])
    assert [int(round(f.image.mean() / 20)) for f in frames] == [3, 2, 1, 0]
    assert source.read == 5 and source.bad == 1
    assert len(problems) == 1 and problems[0].startswith("f01b.jpg") and source.problems == problems


def test_folder_default_one_frame_per_second(frame_folder):
    with open_source(frames=frame_folder, max_frames=2) as source:
        assert [f.t for f in source] == [0.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"camera": 0, "video": "x.avi"}, "got --camera, --video"),
        ({"video": "missing.avi"}, "no such file"),
        ({"frames": "missing"}, "no such folder"),
        ({"camera": -1}, "camera index"),
        ({"frames": "EMPTY"}, "no image files"),
        ({"frames": "FOLDER", "fps": 0.0}, "fps"),
        ({"frames": "FOLDER", "every": 0}, "at least 1"),
        ({"frames": "FOLDER", "max_frames": 0}, "at least 1"),
        ({"video": "TEXT"}, "cannot open"),
    ],
)
def test_invalid_arguments(tmp_path, frame_folder, kwargs, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "video.avi").write_text("this is not a video")
    places = {"EMPTY": tmp_path / "empty", "FOLDER": frame_folder, "TEXT": tmp_path / "video.avi"}
    kwargs = {k: places.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(InvalidInputError, match=message) as error:
        open_source(**kwargs)
    if kwargs.get("video") == places["TEXT"]:
        assert "video.avi" in error.value.message  # names the file


class FakeClock:
    """Monotonic seconds that only move when someone sleeps or the test says so."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("work_s", "indices", "dropped"),
    [(0.0, [0, 1, 3, 4], 0),  # in time: each frame waits for its time, none dropped (index 2 is the bad file)
     # 1.1 s per frame at 2 fps: at 1.1 s frame 2 is due, so frame 1 is dropped; frame 3 waits for its 1.5 s;
     # at 2.6 s frame 4 is past its successor's time (the source's end counts as one)
     (1.1, [0, 3], 2)],
)
def test_realtime_folder_waits_or_drops_by_clock(frame_folder, work_s, indices, dropped):
    clock = FakeClock()
    with open_source(frames=frame_folder, fps=2.0, realtime=True) as source:
        source.clock, source.sleep = clock, clock.sleep
        frames = []
        for frame in source:
            frames.append(frame)
            clock.now += work_s
    assert [f.index for f in frames] == indices
    assert source.dropped == dropped and source.read == 5
    if not work_s:
        assert clock.now == pytest.approx(2.0)  # paced: the last frame (index 4) came at its time


def test_realtime_video_skips_late_frames_unread(small_video):
    clock = FakeClock()
    with open_source(video=small_video, realtime=True) as source:
        source.clock, source.sleep = clock, clock.sleep
        frames = []
        for frame in source:  # 0.45 s a frame at 5 fps
            frames.append(frame)
            clock.now += 0.45
    assert [f.index for f in frames] == [0, 2, 4, 6, 9] and source.dropped == 5 and source.read == 10
    assert [int(round(f.image.mean() / 20)) for f in frames] == [0, 2, 4, 6, 9]  # grab() kept the place


def test_not_realtime_never_drops(frame_folder):
    clock = FakeClock()
    with open_source(frames=frame_folder, fps=2.0) as source:
        source.clock, source.sleep = clock, clock.sleep
        for _ in source:
            clock.now += 10.0
    assert source.dropped == 0 and not clock.slept


class FakeCamera:
    """``cv2.VideoCapture`` of a camera that delivers ``n`` frames (pixels = their number), then none: as fast as
    read, or one each time ``gate`` is released."""

    def __init__(self, n: int, gate: threading.Semaphore | None = None) -> None:
        self.n, self.gate, self.count, self.released = n, gate, 0, False
        self.exhausted = threading.Event()

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self):
        if self.gate is not None:
            self.gate.acquire()
        if self.count < self.n:
            self.count += 1
            return True, np.full((4, 4, 3), self.count - 1, np.uint8)
        self.exhausted.set()
        return False, None

    def release(self) -> None:
        self.released = True


def test_camera_gives_the_newest_frame_and_counts_the_dropped():
    camera = FakeCamera(10)
    problems = []
    source = CaptureSource(camera, "camera 0", True, on_problem=problems.append)
    frames = []
    for frame in source:
        frames.append(frame)
        camera.exhausted.wait(5)  # a slow analysis: the camera delivered everything meanwhile
    source.close()
    assert frames[-1].index == 9 and len(frames) <= 2  # the newest, never a queue of old ones
    assert [int(f.image[0, 0, 0]) for f in frames] == [f.index for f in frames]
    assert source.read == 10 and source.dropped == 10 - len(frames)
    assert problems == ["camera 0 stopped delivering frames after 10 frames"] and camera.released


def test_camera_in_time_drops_none_and_keeps_every_and_max_frames():
    gate = threading.Semaphore(1)
    camera = FakeCamera(10, gate)
    with CaptureSource(camera, "camera 0", True, every=2, max_frames=6) as source:
        frames = []
        for frame in source:  # the camera delivers the next two frames once this one is done
            frames.append(frame)
            gate.release(2)
        gate.release(20)
    assert [f.index for f in frames] == [0, 2, 4]
    assert source.read == 6 and source.dropped == 0 and camera.released
