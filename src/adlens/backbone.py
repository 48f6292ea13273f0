"""MobileNetV1's 1,024-d image embedding, the one backbone two models share.

The product aspects read it from a 224×224 product photo for visual neighbours,
through the network as published (its last layer a fixed 7×7 average pool). The
face-attribute head (eyewear, beard, hat) reads it from a smaller padded face crop,
through :func:`open_feature_map_backbone`: the same network without that pool, whose
last feature map (any input size) is averaged here instead. At 224×224 both give the
same embedding up to the pool's rounding. Both go through :func:`mobilenet_embeddings`,
so training, face attributes and product neighbours see the same numbers for the same pixels.
The feature-map copy also exposes two mid-level maps the network computes anyway
(:data:`MID_LAYERS`, read with :meth:`FeatureMapSession.maps`): finer texture for the head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adlens.errors import ModelUnavailableError
from adlens.modelspecs import get_spec
from adlens.registry import resolve
from adlens.runtime import TFLiteSession, converted_path, made_once
from adlens.settings import Settings, get_settings

if TYPE_CHECKING:
    from ai_edge_litert.schema_py_generated import SubGraphT

EMBEDDING_MODEL = "mobilenet-v1-embedding"
"""The registry's name of the backbone (Coral's quantised embedding extractor, Apache-2.0)."""
DIMENSIONS = 1024
FEATURE_MAP_VERSION = 2
"""Bump when :func:`feature_map_model` changes, so cached copies are remade."""
MID_LAYERS = ("Conv2d_11_pointwise", "Conv2d_5_pointwise")
"""The mid-level maps :func:`feature_map_model` also outputs, after the last map: the inputs of the network's
last two stride-2 blocks (512 and 256 channels, 1/16 and 1/8 of the input side)."""


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
    """The TFLite backbone for ``side``×``side`` input without its final average pool: first output
    ``(n, h, w, 1024)``, then the :data:`MID_LAYERS` maps.

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
    graph.outputs = [last.inputs[0], *(_layer_output(graph, layer) for layer in MID_LAYERS)]
    source = graph.tensors[graph.inputs[0]]
    source.shape = [1, side, side, 3]
    if source.shapeSignature is not None:
        source.shapeSignature = [-1, side, side, 3]
    graph.operators = graph.operators[:-1]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


def _layer_output(graph: SubGraphT, layer: str) -> int:
    """The index of the tensor layer ``layer`` (a name in the published graph, e.g. ``Conv2d_5_pointwise``) writes."""
    prefix = f"MobilenetV1/MobilenetV1/{layer}/".encode()
    for operator in graph.operators:
        output = int(operator.outputs[0])
        if bytes(graph.tensors[output].name or b"").startswith(prefix):
            return output
    raise ModelUnavailableError(f"{EMBEDDING_MODEL} has no layer {layer}; is it the expected file?")


class FeatureMapSession(TFLiteSession):
    """The feature-map backbone (:func:`feature_map_model`): :meth:`run` gives its last map, :meth:`maps` every map."""

    def maps(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Every output, dequantised ``(n, h, w, c)`` float32, of a non-empty batch of uint8 RGB images:
        the last map, then the :data:`MID_LAYERS` ones."""
        interpreter, source = self._interpreter, self._input
        batch = np.ascontiguousarray(rgb, dtype=source["dtype"])
        with self._lock:  # every output is read before another batch runs
            if len(batch) != self._batch:
                interpreter.resize_tensor_input(source["index"], list(batch.shape))
                interpreter.allocate_tensors()
                self._batch = len(batch)
            interpreter.set_tensor(source["index"], batch)
            interpreter.invoke()
            raws = [(interpreter.get_tensor(output["index"]), output["quantization"])
                    for output in interpreter.get_output_details()]
        return [(raw.astype(np.float32) - np.float32(zero_point)) * np.float32(scale) if scale
                else raw.astype(np.float32) for raw, (scale, zero_point) in raws]


def feature_map_path(side: int, settings: Settings | None = None) -> Path:
    """Where the feature-map copy of the backbone for ``side`` is cached (keyed by the source's sha256)."""
    return converted_path(get_spec(EMBEDDING_MODEL), settings, f"feature-map-{side}.v{FEATURE_MAP_VERSION}.tflite")


def open_feature_map_backbone(side: int, settings: Settings | None = None) -> FeatureMapSession:
    """The backbone for ``side``×``side`` input without its pool (:func:`feature_map_model`), made once and
    cached, loaded in LiteRT."""
    settings = settings or get_settings()

    def make(partial: Path) -> None:
        partial.write_bytes(feature_map_model(resolve(EMBEDDING_MODEL, settings).read_bytes(), side))

    return FeatureMapSession(made_once(feature_map_path(side, settings), "the backbone's feature-map model", make),
                         settings)
