"""YuNet (libfacedetection) through OpenCV's ``FaceDetectorYN``: any image size."""

from __future__ import annotations

import cv2
import numpy as np

from adlens.detectors.base import Detector, clip_boxes
from adlens.faces import Faces
from adlens.registry import resolve


class YuNetDetector(Detector):
    """YuNet-s ONNX, run at the image's own size (scaled down to ``detector_max_side``).

    Rows of ``FaceDetectorYN.detect`` are ``x, y, w, h``, five landmark pairs
    (right eye, left eye, nose, right and left mouth corner) and a score, the
    layout of :class:`Faces`.
    """

    name = "yunet"
    model_name = "yunet-s"
    required_models = (model_name,)

    def _load(self) -> None:
        path = resolve(self.model_name, self.settings)
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # a harmless backend warning
        try:
            self._net = self._create(str(path))
        finally:
            cv2.utils.logging.setLogLevel(previous)

    def _create(self, path: str) -> cv2.FaceDetectorYN:
        return cv2.FaceDetectorYN.create(
            path,
            "",
            (320, 320),
            self.settings.detector_score_threshold,
            self.settings.detector_nms_threshold,
            5000,
        )

    def _detect(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        scale = min(1.0, self.settings.detector_max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        with self._lock:  # setInputSize mutates the shared network
            self._net.setInputSize((image.shape[1], image.shape[0]))
            _, rows = self._net.detect(image)
        if rows is None or len(rows) == 0:
            return Faces.empty()
        rows = rows.astype(np.float32)
        faces = Faces(boxes=rows[:, :4], scores=np.clip(rows[:, 14], 0, 1), landmarks=rows[:, 4:14].reshape(-1, 5, 2))
        faces = faces.scaled(1.0 / scale) if scale < 1.0 else faces
        return Faces(clip_boxes(faces.boxes, width, height), faces.scores, faces.landmarks)

