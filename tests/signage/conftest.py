"""Signage test helpers: synthetic faces, a stand-in decider, and a short video made from the
faces_small photos (Obama alone, Obama with Biden, nobody, Lin-Manuel Miranda)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import builders

#: (photo, seconds) in playing order; None is an empty frame.
SCENES = (("obama3.jpg", 2.0), ("two_people.jpg", 2.0), (None, 1.0), ("lin-manuel-miranda.png", 2.0))
VIDEO_FPS = 5.0
VIDEO_SIZE = (640, 480)


def letterbox(image: np.ndarray, size: tuple[int, int] = VIDEO_SIZE) -> np.ndarray:
    """``image`` scaled to fit ``size`` (width, height) on black, aspect kept (faces must not be squashed)."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    w, h = int(image.shape[1] * scale), int(image.shape[0] * scale)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - w) // 2, (height - h) // 2
    canvas[y:y + h, x:x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return canvas


def write_video(path: Path, frames: list[np.ndarray], fps: float = VIDEO_FPS) -> Path:
    """Frames → an MJPG .avi (this OpenCV build writes and reads it back)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (frames[0].shape[1], frames[0].shape[0]))
    assert writer.isOpened(), "this OpenCV build cannot write MJPG video"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def scene_frames(faces_small) -> list[np.ndarray]:
    from adlens.imageio import load_image

    frames = []
    for name, seconds in SCENES:
        image = letterbox(load_image(faces_small / name)) if name else np.zeros((*VIDEO_SIZE[::-1], 3), np.uint8)
        frames.extend([image] * int(round(seconds * VIDEO_FPS)))
    return frames


@pytest.fixture(scope="session")
def scene_video(tmp_path_factory, scene_frames) -> Path:
    """``scenes.avi``: 7 s at 5 fps, 640×480."""
    return write_video(tmp_path_factory.mktemp("video") / "scenes.avi", scene_frames)


@pytest.fixture(scope="session")
def make_video():
    """:func:`write_video` for tests that build their own video."""
    return write_video


# --- a stand-in for adlens.decision.Decider ------------------------------------------
FakeDecider = builders.FakeDecider


@pytest.fixture()
def fake_decider():
    """The :class:`FakeDecider` class (tests build it with their own ads)."""
    return FakeDecider


# --- synthetic faces ---------------------------------------------------------------
@pytest.fixture(scope="session")
def make_faces():
    """The shared :func:`builders.make_faces`: ``make_faces(boxes, embeddings=None, looking=None, **columns)``."""
    return builders.make_faces
