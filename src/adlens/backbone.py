"""MobileNetV1's 1,024-d image embedding, the one backbone two models share.

The face-attribute head (eyewear, beard, hat) reads it from a padded face crop;
the product aspects read it from a product photo for visual neighbours. Both
go through :func:`mobilenet_embeddings`, so training, face attributes and
product neighbours see the same numbers for the same pixels.
"""

from __future__ import annotations

import numpy as np

from adlens.runtime import TFLiteSession

EMBEDDING_MODEL = "mobilenet-v1-embedding"
"""The registry's name of the backbone (Coral's quantised embedding extractor, Apache-2.0)."""
DIMENSIONS = 1024


def mobilenet_embeddings(backbone: TFLiteSession, rgb: np.ndarray) -> np.ndarray:
    """L2-normalised embeddings ``(n, 1024)`` float32 of uint8 RGB 224×224 images ``(n, 224, 224, 3)``.

    The quantised output is dequantised first; an empty batch gives an empty
    ``(0, 1024)`` array without running the network.
    """
    if len(rgb) == 0:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    features = backbone.run(np.ascontiguousarray(rgb, dtype=np.uint8), dequantize=True)
    features = features.reshape(len(rgb), -1).astype(np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)
