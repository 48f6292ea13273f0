"""MobileNetV1's 1,024-d image embedding, the one backbone two models share.

The product aspects read it from a 224×224 product photo for visual neighbours,
through the network as published (its last layer a fixed 7×7 average pool). The
face-attribute head (eyewear, beard, hat) reads it from a smaller padded face crop,
through :func:`open_feature_map_backbone`: the same network without that pool, whose
last feature map (any input size) is averaged here instead. At 224×224 both give the
same embedding up to the pool's rounding. Both go through :func:`mobilenet_embeddings`,
so training, face attributes and product neighbours see the same numbers for the same pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adlens.errors import ModelUnavailableError
from adlens.modelspecs import get_spec
from adlens.registry import resolve
from adlens.runtime import TFLiteSession, converted_path, made_once
from adlens.settings import Settings, get_settings

EMBEDDING_MODEL = "mobilenet-v1-embedding"
"""The registry's name of the backbone (Coral's quantised embedding extractor, Apache-2.0)."""
DIMENSIONS = 1024
FEATURE_MAP_VERSION = 1
"""Bump when :func:`feature_map_model` changes, so cached copies are remade."""


def mobilenet_embeddings(backbone: TFLiteSession, rgb: np.ndarray) -> np.ndarray:
    """L2-normalised embeddings ``(n, 1024)`` float32 of uint8 RGB images ``(n, side, side, 3)``.

    The quantised output is dequantised, then averaged over its positions: one for the
    pooled network (224×224 input), ``(side / 32)²`` rounded up for the feature-map one.
    An empty batch gives an empty ``(0, 1024)`` array without running the network.
    """
    if len(rgb) == 0:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return unit_rows(mobilenet_feature_maps(backbone, rgb).mean(axis=1))


def mobilenet_feature_maps(backbone: TFLiteSession, rgb: np.ndarray) -> np.ndarray:
    """The dequantised output ``(n, positions, 1024)`` float32 of a non-empty batch of uint8 RGB images."""
    features = backbone.run(np.ascontiguousarray(rgb, dtype=np.uint8), dequantize=True)
    return features.reshape(len(rgb), -1, DIMENSIONS).astype(np.float32)


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (an all-zero row stays zero)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


def feature_map_model(model: bytes, side: int) -> bytes:
    """The TFLite backbone for ``side``×``side`` input without its final average pool: output ``(n, h, w, 1024)``.

    The published pool has a fixed 7×7 window, so any input but 224×224 leaves it an
    empty output; its input, the last convolution's feature map, becomes the model's output.
    """
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    graph = tree.subgraphs[0]
    last = graph.operators[-1]
    code = flatbuffer_utils.get_builtin_code_from_operator_code(tree.operatorCodes[last.opcodeIndex])
    if code != schema.BuiltinOperator.AVERAGE_POOL_2D or list(graph.outputs) != list(last.outputs):
        raise ModelUnavailableError(f"{EMBEDDING_MODEL} does not end in its average pool; is it the expected file?")
    graph.outputs = [last.inputs[0]]
    source = graph.tensors[graph.inputs[0]]
    source.shape = [1, side, side, 3]
    if source.shapeSignature is not None:
        source.shapeSignature = [-1, side, side, 3]
    graph.operators = graph.operators[:-1]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


def feature_map_path(side: int, settings: Settings | None = None) -> Path:
    """Where the feature-map copy of the backbone for ``side`` is cached (keyed by the source's sha256)."""
    return converted_path(get_spec(EMBEDDING_MODEL), settings, f"feature-map-{side}.v{FEATURE_MAP_VERSION}.tflite")


def open_feature_map_backbone(side: int, settings: Settings | None = None) -> TFLiteSession:
    """The backbone for ``side``×``side`` input without its pool (:func:`feature_map_model`), made once and
    cached, loaded in LiteRT."""
    settings = settings or get_settings()

    def make(partial: Path) -> None:
        partial.write_bytes(feature_map_model(resolve(EMBEDDING_MODEL, settings).read_bytes(), side))

    return TFLiteSession(made_once(feature_map_path(side, settings), "the backbone's feature-map model", make),
                         settings)
