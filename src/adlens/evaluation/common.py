"""What every accuracy evaluation shares: the progress hook, worker processes, skipping unreadable files,
whole-image faces."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import numpy as np

from adlens.attributes.models import UTKFACE_TEMPLATE
from adlens.errors import AdlensError
from adlens.faces import Faces
from adlens.imageio import load_image
from adlens.settings import Settings
from adlens.workers import ItemError, run_ordered

T = TypeVar("T")
S = TypeVar("S")
R = TypeVar("R")
Track = Callable[[Iterable[T], str, int], Iterable[T]]


def no_track(items: Iterable[T], description: str = "", total: int = 0) -> Iterable[T]:
    """A :data:`Track` that shows nothing: the default of every evaluation's progress hook."""
    return items


def outcomes(
    items: Sequence[T], build: Callable[[Settings], S], work: Callable[[S, T], R], settings: Settings,
    track: Track, description: str, workers: int = 1,
) -> Generator[R | ItemError, None, None]:
    """``work(models, item)`` for every item in up to ``workers`` processes, each building its models once
    (:func:`adlens.workers.run_ordered`), in the items' order behind the progress hook; an item's
    error (an unreadable file) comes as an :class:`ItemError`. The results do not depend on ``workers``."""
    results = run_ordered(items, build, work, settings=settings, workers=max(1, min(workers, len(items))))
    with closing(results):
        yield from track(results, description, len(items))


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
