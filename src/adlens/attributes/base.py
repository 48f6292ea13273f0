"""The attribute-model interface: ``predict(image, faces) -> Faces`` with new columns.

Each model declares the crop it needs (:class:`~adlens.align.CropSpec`), turns
a batch of such crops into its input, and its raw output into named per-face
columns. Labels and post-processing live here, in the model's class, never in
the pipeline.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar, Self

import numpy as np

from adlens.align import CropSpec, crop_faces
from adlens.detectors.base import check_bgr
from adlens.faces import Faces
from adlens.runtime import Session, open_session
from adlens.settings import Settings, get_settings


class AttributeModel(ABC):
    """One model that adds columns (``columns``) to every face.

    Subclasses set ``name`` (the factory's key), ``model_name`` (the registry's),
    ``crop``, ``columns`` and ``output_width``, and implement :meth:`_preprocess` and
    :meth:`_postprocess`.
    """

    name: ClassVar[str]
    model_name: ClassVar[str]
    crop: ClassVar[CropSpec]
    columns: ClassVar[tuple[str, ...]]
    output_width: ClassVar[int]
    """Values per face in the network's raw output (7 for emotion, 2 for gender, 1 for age)."""
    batch_size: ClassVar[int] = 64
    stage: ClassVar[str | None] = None
    """The pipeline's timing name for this model (default: its first column)."""

    @classmethod
    def stage_name(cls) -> str:
        return cls.stage or cls.columns[0]

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._session: Session | None = None
        self._lock = threading.Lock()

    @property
    def required_models(self) -> tuple[str, ...]:
        """Registry names of the weights :meth:`load` reads (checked all at once before loading)."""
        return (self.model_name,)

    def load(self) -> Self:
        """Resolve and load the weights (idempotent)."""
        with self._lock:
            if self._session is None:
                self._session = open_session(self.model_name, self.settings)
        return self

    def predict(self, image: np.ndarray, faces: Faces) -> Faces:
        """``faces`` with this model's columns, computed on ``image`` (uint8 BGR)."""
        check_bgr(image)
        return faces.with_columns(**self.predict_crops(crop_faces(image, faces, self.crop)))

    def predict_crops(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """Columns for crops already cut as :attr:`crop` says (``(n, size, size, channels)`` uint8)."""
        self.load()
        assert self._session is not None
        if len(crops) == 0:
            return self._postprocess(np.zeros((0, self.output_width), dtype=np.float32))
        outputs = [
            self._session.run(self._preprocess(crops[start : start + self.batch_size]))
            for start in range(0, len(crops), self.batch_size)
        ]
        return self._postprocess(np.concatenate(outputs, axis=0))

    @abstractmethod
    def _preprocess(self, crops: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]: ...


def xception_input(crops: np.ndarray) -> np.ndarray:
    """oarriaga's mini-Xception scaling: ``(x / 255 - 0.5) * 2`` on grey crops."""
    return (crops.astype(np.float32) / 255.0 - 0.5) * 2.0


def gender_columns(female_probability: np.ndarray) -> dict[str, np.ndarray]:
    """``gender`` ("female"/"male") and ``gender_confidence`` from P(female)."""
    female = np.asarray(female_probability, dtype=np.float32).reshape(-1)
    labels = np.where(female >= 0.5, "female", "male").astype(object)
    return {"gender": labels, "gender_confidence": np.maximum(female, 1.0 - female)}
