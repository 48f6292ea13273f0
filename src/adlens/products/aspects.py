"""What a product photo is about, the way an image-tagging service describes it.

:class:`AspectExtractor` turns product photos into :class:`~adlens.products.types.Aspects`:
ImageNet concepts from a quantised MobileNetV2 (top-k, softmax confidences), a 1,024-d
L2-normalised MobileNetV1 embedding for visual neighbours, and the named dominant colours
of the product with its background removed (:mod:`adlens.products.colours`). Tokens are
left to the module that reads the product's name and metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from adlens.backbone import EMBEDDING_MODEL, mobilenet_embeddings
from adlens.imageio import ImageSource, load_image
from adlens.model import Model
from adlens.products.colours import dominant_colours
from adlens.products.types import Aspects
from adlens.registry import require, resolve
from adlens.runtime import TFLiteSession, open_session
from adlens.settings import Settings

CLASSIFIER = "mobilenet-v2-imagenet"
EMBEDDER = EMBEDDING_MODEL
LABELS = "imagenet-labels"
INPUT_SIZE = 224
MIN_CONFIDENCE = 0.02
"""Concepts the classifier gives less probability than this are noise, not aspects."""


def read_labels(path: Path) -> list[str]:
    """The classifier's label names, one per output, lower-cased and cut to their first synonym
    (``"great white shark, white shark, …"`` → ``"great white shark"``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split(",")[0].strip().lower() for line in lines if line.strip()]


def to_model_input(bgr: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """A uint8 RGB ``size``×``size`` image: the photo scaled to fit, centred, and padded with the
    median colour of its border so the padding reads as more of the photo's background."""
    height, width = bgr.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(bgr, (new_w, new_h), interpolation=interpolation)
    border = np.concatenate([bgr[0], bgr[-1], bgr[:, 0], bgr[:, -1]])
    canvas = np.empty((size, size, 3), np.uint8)
    canvas[:] = np.median(border, axis=0).astype(np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return np.ascontiguousarray(canvas[:, :, ::-1])


class AspectExtractor(Model):
    """Concepts, embedding and dominant colours of product photos, three models loaded once."""

    batch_size = 32
    required_models = (LABELS, CLASSIFIER, EMBEDDER)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._classifier: TFLiteSession | None = None
        self._embedder: TFLiteSession | None = None
        self._labels: list[str] = []

    def _load(self) -> None:
        require(self.required_models, self.settings)  # one error names every missing file
        self._labels = read_labels(resolve(LABELS, self.settings))
        self._classifier = _tflite(CLASSIFIER, self.settings)
        self._embedder = _tflite(EMBEDDER, self.settings)

    def extract(self, bgr: np.ndarray) -> Aspects:
        """The aspects of one photo (uint8 BGR; grey or BGRA arrays are converted)."""
        return self.extract_batch([bgr])[0]

    def extract_file(self, path: ImageSource) -> Aspects:
        """The aspects of an image file (or anything :func:`~adlens.imageio.load_image` reads)."""
        return self.extract(load_image(path, max_pixels=self.settings.max_pixels))

    def extract_batch(self, images: Sequence[np.ndarray]) -> list[Aspects]:
        """The aspects of each photo, the networks run on batches of :attr:`batch_size`."""
        self.load()
        photos = [load_image(image, max_pixels=self.settings.max_pixels) for image in images]
        if not photos:
            return []
        top_k, colours_k = self.settings.concepts_top_k, self.settings.colours_k
        results: list[Aspects] = []
        for start in range(0, len(photos), self.batch_size):
            chunk = photos[start : start + self.batch_size]
            batch = np.stack([to_model_input(photo) for photo in chunk])
            probabilities, embeddings = self._infer(batch)
            for photo, row, embedding in zip(chunk, probabilities, embeddings, strict=True):
                results.append(
                    Aspects(
                        concepts=self._concepts(row, top_k),
                        colours=dominant_colours(photo, colours_k),
                        embedding=embedding,
                    )
                )
        return results

    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self._classifier is not None and self._embedder is not None
        # The classifier's graph reshapes its logits to a fixed [1, 1001], so it cannot be resized
        # to a batch; one image per call costs nothing (LiteRT's per-image time is flat in the batch).
        probabilities = np.concatenate([self._classifier.run(image[None], dequantize=True) for image in batch])
        probabilities = probabilities.reshape(len(batch), -1)
        probabilities /= np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-12)  # undo quantisation drift
        return probabilities, mobilenet_embeddings(self._embedder, batch)

    def _concepts(self, probabilities: np.ndarray, top_k: int) -> dict[str, float]:
        """Top-k labels by probability, "background" (output 0) left out; labels that share a
        first synonym (ImageNet has two "crane"s and two "maillot"s) add up."""
        concepts: dict[str, float] = {}
        for index in np.argsort(-probabilities[1:], kind="stable")[:top_k] + 1:
            confidence = float(probabilities[index])
            if confidence < MIN_CONFIDENCE:
                break
            name = self._labels[index]
            concepts[name] = concepts.get(name, 0.0) + confidence
        return concepts


def _tflite(name: str, settings: Settings) -> TFLiteSession:
    session = open_session(name, settings)
    if not isinstance(session, TFLiteSession):  # the registry says tflite; guard against an edit there
        raise TypeError(f"model {name!r} is not a TFLite model")
    return session
