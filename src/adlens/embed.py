"""Identity embeddings: dlib's 128-d ResNet on 150×150 chips aligned from the five landmarks.

The network is the same either way: :class:`OnnxEmbedder` (the default) runs dlib's
weights converted to ONNX by :mod:`adlens.convert.dlib` in ONNX Runtime, batched and
threaded as ``ADLENS_ORT_*`` says; :class:`DlibEmbedder` runs them in dlib itself
(``ADLENS_EMBEDDER=dlib``), which is slower without a BLAS but needs no conversion.
Both give the same embeddings to within 1e-4. :func:`create_embedder` is the factory.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from adlens.errors import UnknownNameError
from adlens.model import Model
from adlens.settings import Settings

EMBEDDING_MODEL = "dlib-face-embedding"


class Embedder(Model):
    """dlib ``face_recognition_model_v1`` (99.38% on LFW); distance < 0.6 means same person.

    Subclasses run the network in :meth:`_embed` on a non-empty batch of chips; the chips come
    from :class:`adlens.chips.FaceAligner` (the :class:`~adlens.pipeline.Analyzer` holds both).
    """

    name: ClassVar[str]
    dimensions: ClassVar[int] = 128
    required_models = (EMBEDDING_MODEL,)

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """Embeddings ``(n, 128)`` float32 of aligned RGB 150×150 uint8 chips ``(n, 150, 150, 3)``."""
        self.load()
        if len(chips) == 0:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return self._embed(np.asarray(chips))

    @abstractmethod
    def _embed(self, chips: np.ndarray) -> np.ndarray: ...


class OnnxEmbedder(Embedder):
    """The network in ONNX Runtime: all the faces of a frame in one call."""

    name = "onnx"

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._session: Any = None

    def _load(self) -> None:
        from adlens.runtime import open_session

        self._session = open_session(EMBEDDING_MODEL, self.settings)

    def _embed(self, chips: np.ndarray) -> np.ndarray:
        return np.asarray(self._session.run(chips.astype(np.float32)), dtype=np.float32)


class DlibEmbedder(Embedder):
    """The network in dlib (``ADLENS_EMBEDDER=dlib``)."""

    name = "dlib"

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._model: Any = None

    def _load(self) -> None:
        import dlib

        from adlens.registry import resolve

        self._model = dlib.face_recognition_model_v1(str(resolve(EMBEDDING_MODEL, self.settings)))

    def _embed(self, chips: np.ndarray) -> np.ndarray:
        with self._lock:  # one dlib network object: calls are serialised
            descriptors = self._model.compute_face_descriptor([np.ascontiguousarray(c) for c in chips])
        return np.asarray([np.asarray(d) for d in descriptors], dtype=np.float32)


EMBEDDERS: dict[str, type[Embedder]] = {cls.name: cls for cls in (OnnxEmbedder, DlibEmbedder)}


def create_embedder(name: str | None = None, settings: Settings | None = None) -> Embedder:
    """The embedder called ``name`` (default: ``ADLENS_EMBEDDER``, i.e. ``onnx``), not loaded yet.

    Raises:
        UnknownNameError: ``name`` is not one of :data:`EMBEDDERS`.
    """
    from adlens.settings import get_settings

    settings = settings or get_settings()
    name = name or settings.embedder
    if name not in EMBEDDERS:
        raise UnknownNameError(f"unknown embedder {name!r}; choose one of: {', '.join(EMBEDDERS)}")
    return EMBEDDERS[name](settings)


def distances(embeddings: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distances between each row of ``embeddings`` and each row of ``reference``."""
    a = np.asarray(embeddings, dtype=np.float32)[:, None, :]
    b = np.asarray(reference, dtype=np.float32)[None, :, :]
    return np.linalg.norm(a - b, axis=-1)
