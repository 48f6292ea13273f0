"""dlib's HOG + linear SVM detector, with five landmarks from dlib's 68-point model."""

from __future__ import annotations

import cv2
import numpy as np

from adlens.detectors.base import Detector, clip_boxes
from adlens.faces import Faces
from adlens.registry import resolve

# 68-point indices: the person's right eye (image left), left eye, nose tip, mouth corners.
_RIGHT_EYE = slice(36, 42)
_LEFT_EYE = slice(42, 48)
_NOSE_TIP, _MOUTH_RIGHT, _MOUTH_LEFT = 30, 48, 54


class DlibHogDetector(Detector):
    """HOG detector (upsampled once, as face_recognition does) + 68-point landmarks.

    Scores are the SVM margins squashed into ``[0, 1]`` by a logistic function.
    """

    name = "dlib"
    required_models = ("dlib-landmarks-68",)
    upsample = 1

    def _load(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(resolve("dlib-landmarks-68", self.settings)))

    def _detect(self, image: np.ndarray) -> Faces:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        with self._lock:  # dlib's detector and predictor objects are shared: serialise calls
            rects, margins, _ = self._detector.run(rgb, self.upsample, 0.0)
            shapes = [self._predictor(rgb, rect) for rect in rects]
        if not rects:
            return Faces.empty()
        boxes, landmarks = [], []
        for rect, shape in zip(rects, shapes, strict=True):
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            landmarks.append(
                [
                    points[_RIGHT_EYE].mean(axis=0),
                    points[_LEFT_EYE].mean(axis=0),
                    points[_NOSE_TIP],
                    points[_MOUTH_RIGHT],
                    points[_MOUTH_LEFT],
                ]
            )
            boxes.append([rect.left(), rect.top(), rect.width(), rect.height()])
        scores = 1.0 / (1.0 + np.exp(-np.asarray(margins, dtype=np.float32)))
        height, width = image.shape[:2]
        return Faces(clip_boxes(np.asarray(boxes), width, height), scores, np.asarray(landmarks))
