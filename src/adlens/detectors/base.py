"""The detector interface: ``detect(image) -> Faces``, nothing else."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np

from adlens.errors import InvalidImageError
from adlens.faces import Faces
from adlens.settings import Settings, get_settings


def check_bgr(image: np.ndarray) -> None:
    """Raise :class:`InvalidImageError` unless ``image`` is a uint8 ``(H, W, 3)`` array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise InvalidImageError(f"expected a uint8 BGR image of shape (H, W, 3), got {shape} (use load_image)")


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """``x, y, w, h`` boxes clipped to a ``width`` × ``height`` image (detectors can overhang)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    x0 = np.clip(boxes[:, 0], 0, width)
    y0 = np.clip(boxes[:, 1], 0, height)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


class Detector(ABC):
    """Finds every face of an image with its five landmarks.

    Subclasses implement :meth:`_load` (read the weights) and :meth:`_detect`
    (find faces in a validated BGR image, in that image's pixel coordinates).
    :meth:`load` and :meth:`detect` fix the order: load once, validate, detect,
    drop faces smaller than ``min_face_size``, sort by size.
    """

    name: ClassVar[str]
    required_models: ClassVar[tuple[str, ...]] = ()
    """Registry names of the weights :meth:`load` reads (checked all at once before loading)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._loaded = False
        self._lock = threading.Lock()

    def load(self) -> Self:
        """Load the weights (idempotent); raises ModelUnavailableError if they are missing."""
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        return self

    def detect(self, image: np.ndarray) -> Faces:
        """All faces in ``image`` (uint8 BGR), largest first."""
        check_bgr(image)
        self.load()
        faces = self._detect(image)
        keep = np.minimum(faces.boxes[:, 2], faces.boxes[:, 3]) >= self.settings.min_face_size
        return faces[keep].sorted_by_area()

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _detect(self, image: np.ndarray) -> Faces: ...
