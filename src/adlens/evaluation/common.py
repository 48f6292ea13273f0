"""What every accuracy evaluation shares: the progress hook, skipping unreadable files, whole-image faces."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np

from adlens.attributes.models import UTKFACE_TEMPLATE
from adlens.errors import AdlensError
from adlens.faces import Faces
from adlens.imageio import load_image
from adlens.settings import Settings

T = TypeVar("T")
Track = Callable[[Iterable[T], str, int], Iterable[T]]


def no_track(items: Iterable[T], description: str = "", total: int = 0) -> Iterable[T]:
    """A :data:`Track` that shows nothing: the default of every evaluation's progress hook."""
    return items


def load_or_skip(path: Path, settings: Settings, skipped: list[dict[str, str]]) -> np.ndarray | None:
    """The decoded image, or ``None`` after noting in ``skipped`` why it could not be read."""
    try:
        return load_image(path, max_pixels=settings.max_pixels)
    except AdlensError as error:
        skipped.append({"image": str(path), "error": error.message})
        return None


def chip_face(image: np.ndarray) -> Faces:
    """The whole image as one aligned face chip (UTKFace geometry): box and landmarks."""
    height, width = image.shape[:2]
    landmarks = np.asarray(UTKFACE_TEMPLATE, dtype=np.float32) * [width, height]
    return Faces(np.array([[0, 0, width, height]]), np.array([1.0]), landmarks[None])
