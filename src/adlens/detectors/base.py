"""The detector interface: ``detect(image) -> Faces``, nothing else."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from adlens.faces import Faces
from adlens.imagecheck import check_bgr
from adlens.model import Model


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """``x, y, w, h`` boxes clipped to a ``width`` × ``height`` image (detectors can overhang)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    x0 = np.clip(boxes[:, 0], 0, width)
    y0 = np.clip(boxes[:, 1], 0, height)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


class Detector(Model):
    """Finds every face of an image with its five landmarks.

    Subclasses implement :meth:`_load` (read the weights) and :meth:`_detect`
    (find faces in a validated BGR image, in that image's pixel coordinates).
    :meth:`load` and :meth:`detect` fix the order: load once, validate, detect,
    drop faces smaller than ``min_face_size``, sort by size.
    """

    name: ClassVar[str]

    def detect(self, image: np.ndarray) -> Faces:
        """All faces in ``image`` (uint8 BGR), largest first."""
        check_bgr(image)
        self.load()
        faces = self._detect(image)
        keep = np.minimum(faces.boxes[:, 2], faces.boxes[:, 3]) >= self.settings.min_face_size
        return faces[keep].sorted_by_area()

    @abstractmethod
    def _detect(self, image: np.ndarray) -> Faces: ...
