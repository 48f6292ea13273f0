"""Face crops for the attribute models: padded box crops, or chips aligned from the five landmarks.

Each is one affine warp per face with the border replicated, so a face at the
image's edge still yields a full crop. The identity embedding's chips are
:mod:`adlens.chips`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adlens.faces import Faces


def _landmark_matrix(landmarks: np.ndarray, template: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """The similarity taking ``landmarks`` onto ``template`` (the box's square if degenerate)."""
    matrix, _ = cv2.estimateAffinePartial2D(landmarks, template, method=cv2.LMEDS)
    return matrix if matrix is not None else _box_matrix(box, 0.0, size)


@dataclass(frozen=True)
class CropSpec:
    """The crop an attribute model wants: a square around the face box.

    Attributes:
        size: side of the model's input in pixels.
        pad: extra margin on each side, as a fraction of the box's longer side.
        gray: convert to one grey channel (else RGB).
        shift_y: move the square's centre down by this fraction of the box side.
        template: if given, the crop is instead aligned from the five landmarks
            onto these points (``(5, 2)``, as fractions of ``size``).
    """

    size: int
    pad: float = 0.0
    gray: bool = False
    shift_y: float = 0.0
    template: tuple[tuple[float, float], ...] | None = None


def _box_matrix(box: np.ndarray, pad: float, size: int, shift_y: float = 0.0) -> np.ndarray:
    x, y, w, h = (float(v) for v in box)
    side = max(w, h, 1.0)
    side_padded = side * (1.0 + 2.0 * pad)
    cx, cy = x + w / 2.0, y + h / 2.0 + shift_y * side
    scale = size / side_padded
    return np.array(
        [[scale, 0.0, size / 2.0 - scale * cx], [0.0, scale, size / 2.0 - scale * cy]], dtype=np.float64
    )


def crop_faces(image: np.ndarray, faces: Faces, spec: CropSpec) -> np.ndarray:
    """Crops of every face of a BGR image as ``spec`` asks: ``(n, size, size, 1 or 3)`` uint8, RGB or grey.

    Each crop is warped from the BGR image first and only then converted, so
    the whole image is never converted once per model.
    """
    channels = 1 if spec.gray else 3
    crops = np.empty((len(faces), spec.size, spec.size, channels), dtype=np.uint8)
    template = None if spec.template is None else np.asarray(spec.template, dtype=np.float32) * spec.size
    conversion = cv2.COLOR_BGR2GRAY if spec.gray else cv2.COLOR_BGR2RGB
    for i, box in enumerate(faces.boxes):
        if template is None:
            matrix = _box_matrix(box, spec.pad, spec.size, spec.shift_y)
        else:
            matrix = _landmark_matrix(faces.landmarks[i], template, box, spec.size)
        crop = cv2.warpAffine(image, matrix, (spec.size, spec.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        crops[i] = cv2.cvtColor(crop, conversion).reshape(spec.size, spec.size, channels)
    return crops

