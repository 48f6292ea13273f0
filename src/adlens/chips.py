"""The identity embedding's chips, cut exactly as dlib cuts them.

dlib's ResNet was trained on 150×150 chips that ``dlib.get_face_chip(image,
shape, 150, 0.25)`` cuts around dlib's own five landmarks, found inside the
rectangle of dlib's HOG detector. :class:`FaceAligner` does the same for any
detector's faces: each box becomes the rectangle the HOG detector would have
drawn (:data:`HOG_BOX_FITS`), dlib's 5-point shape predictor runs in it, and
dlib cuts the chips. On 1,929 photos of faces_small and UTKFace these chips
differ from face_recognition's by a mean 4.3 grey levels (5.1 from the raw YuNet
box, 32.6 for YuNet's points warped onto a fixed template), and their embeddings
lie 0.050 from face_recognition's (0.175 for the template's); see
``tools/compare_alignment.py`` and docs/gallery.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adlens.errors import UnknownNameError
from adlens.faces import Faces
from adlens.imagecheck import check_bgr
from adlens.model import Model
from adlens.registry import resolve
from adlens.settings import Settings

HOG_BOX_FITS: dict[str, tuple[float, float, float, float]] = {
    "yunet": (-0.049, -0.041, 0.993, 0.854),
    "dlib": (0.0, 0.0, 1.0, 1.0),
}
"""Per detector, how dlib's HOG detector frames the same face, as ``(dx, dy, sx, sy)``: the
rectangle's centre lies ``dx`` box widths right of and ``dy`` box heights below the box's
centre, and it is ``sx`` box widths wide and ``sy`` box heights high. YuNet's are the
medians over the 1,942 faces of faces_small and utkface_random_200 where both detectors
fire (``tools/compare_alignment.py`` refits them on the largest face of each photo, to
±0.001); dlib's own boxes are its rectangles already."""

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def hog_rectangles(boxes: np.ndarray, fit: tuple[float, float, float, float]) -> np.ndarray:
    """``(n, 4)`` integer ``left, top, right, bottom`` (inclusive, as dlib's rectangles) of ``x, y, w, h`` boxes."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    dx, dy, sx, sy = fit
    width = np.maximum(np.round(sx * boxes[:, 2]), 1.0)
    height = np.maximum(np.round(sy * boxes[:, 3]), 1.0)
    left = np.round(boxes[:, 0] + boxes[:, 2] * (0.5 + dx) - width / 2.0)
    top = np.round(boxes[:, 1] + boxes[:, 3] * (0.5 + dy) - height / 2.0)
    return np.stack([left, top, left + width - 1.0, top + height - 1.0], axis=1).astype(np.int64)


class FaceAligner(Model):
    """dlib's 5-point landmarks in each face's HOG-like rectangle, and dlib's 150×150 chips around them.

    Args:
        settings: where the weights are.
        detector: the detector whose boxes :meth:`chips` gets (default: ``ADLENS_DETECTOR``).

    Raises:
        UnknownNameError: no box fit is known for ``detector``.
    """

    required_models = ("dlib-landmarks-5",)

    def __init__(self, settings: Settings | None = None, detector: str | None = None) -> None:
        super().__init__(settings)
        self.detector = detector or self.settings.detector
        if self.detector not in HOG_BOX_FITS:
            raise UnknownNameError(f"no box fit for detector {self.detector!r}; known: {', '.join(HOG_BOX_FITS)}")
        self._dlib: Any = None
        self._predictor: Any = None

    def _load(self) -> None:
        import dlib

        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(resolve("dlib-landmarks-5", self.settings)))

    def shapes(self, image: np.ndarray, faces: Faces) -> Any:
        """dlib's 5-point shapes (a ``dlib.full_object_detections``) of every face of ``image`` (uint8 BGR).

        The predictor reads the mean of the three channels, so BGR and RGB pixels give the same points.
        """
        check_bgr(image)
        self.load()
        pixels = np.ascontiguousarray(image)
        shapes = self._dlib.full_object_detections()
        with self._lock:  # one dlib predictor object: calls are serialised
            for left, top, right, bottom in hog_rectangles(faces.boxes, HOG_BOX_FITS[self.detector]).tolist():
                shapes.append(self._predictor(pixels, self._dlib.rectangle(left, top, right, bottom)))
        return shapes

    def chips(self, image: np.ndarray, faces: Faces, size: int = CHIP_SIZE, padding: float = CHIP_PADDING,
              shapes: Any = None) -> np.ndarray:
        """``(n, size, size, 3)`` uint8 RGB chips of every face of ``image`` (uint8 BGR), in ``faces``' order.

        Equal to ``dlib.get_face_chip(rgb, shape, size, padding)`` on the RGB image: the
        predictor reads the mean of the three channels, and the chip is interpolated
        channel by channel, so both run on the BGR pixels and only the chips are
        flipped. Parts of a chip beyond the image are black, as in dlib. The default
        size and padding are the embedder's; ``shapes`` from :meth:`shapes` saves finding
        the landmarks again for another size of chip.
        """
        check_bgr(image)
        self.load()
        if len(faces) == 0:
            return np.zeros((0, size, size, 3), dtype=np.uint8)
        pixels = np.ascontiguousarray(image)
        if shapes is None:
            shapes = self.shapes(pixels, faces)
        # One face at a time: get_face_chips shares one image pyramid among all the faces, which moves small
        # chips (64 px: up to 14 grey levels) away from get_face_chip's, the reference; it is no faster either.
        chips = [self._dlib.get_face_chip(pixels, shape, size=size, padding=padding) for shape in shapes]
        return np.ascontiguousarray(np.asarray(chips, dtype=np.uint8)[..., ::-1])
