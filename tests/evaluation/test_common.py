"""What the evaluations share: whole-image faces, unreadable files skipped with their reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adlens.evaluation.common import chip_face, load_or_skip, no_track
from adlens.settings import get_settings


@pytest.mark.parametrize(("height", "width"), [(64, 64), (40, 80)])
def test_chip_face_covers_the_image(height: int, width: int) -> None:
    face = chip_face(np.zeros((height, width, 3), np.uint8))
    assert len(face) == 1
    assert face.boxes.tolist() == [[0, 0, width, height]]
    landmarks = face.landmarks[0]
    assert ((landmarks >= 0) & (landmarks <= [width, height])).all()


def test_load_or_skip(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    skipped: list[dict[str, str]] = []
    assert load_or_skip(broken, get_settings(), skipped) is None
    assert skipped == [{"image": str(broken), "error": f"{broken}: not a recognised image format"}]


def test_no_track_passes_items_through() -> None:
    items = [1, 2, 3]
    assert no_track(items, "anything", 3) is items
