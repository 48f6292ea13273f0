"""The attribute-model interface: ``predict(image, faces) -> Faces`` with new columns.

Each model declares the crop it needs (:class:`~adlens.align.CropSpec`), turns
a batch of such crops into its input, and its raw output into named per-face
columns. Labels and post-processing live here, in the model's class, never in
the pipeline.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from adlens.align import CropSpec, crop_faces
from adlens.faces import Faces
from adlens.imagecheck import check_bgr
from adlens.model import Model
from adlens.runtime import Session, open_session
from adlens.settings import Settings


class AttributeModel(Model):
    """One model that adds columns (``columns``) to every face.

    Subclasses set ``name`` (the factory's key), ``model_name`` (the registry's),
    ``crop``, ``columns`` and ``output_width``, and implement :meth:`_preprocess` and
    :meth:`_postprocess`; one made of several networks overrides :meth:`_open` and
    ``required_models`` (default: ``(model_name,)``).
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # One network per model unless the class says otherwise: its own registry name.
        if "model_name" in cls.__dict__ and "required_models" not in cls.__dict__:
            cls.required_models = (cls.model_name,)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._session: Session | None = None

    def _load(self) -> None:
        self._session = self._open()

    def _open(self) -> Session:
        """The loaded network(s), run as one session on preprocessed batches."""
        return open_session(self.model_name, self.settings)

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
