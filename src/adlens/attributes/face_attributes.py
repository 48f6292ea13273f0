"""Eyewear, beard and hat: a head trained by adlens on features of a padded face crop.

The crop reaches above the face (a hat) and around it (frames); MobileNetV1 (the
registry's ``mobilenet-v1-embedding``, Apache-2.0) reads it at 128×128 without its
final pool (:func:`~adlens.backbone.open_feature_map_backbone`), and the mean and the
max of its last 4×4 feature map over positions, L2-normalised together
(:func:`attribute_features`), feed a small ONNX head shipped with adlens
(``face-attributes-head``), which gives one probability per attribute. The same
:func:`attribute_features` is used to train the head (``adlens train attributes``),
so training and inference see identical inputs.
"""

from __future__ import annotations

import numpy as np

from adlens.align import CropSpec
from adlens.attributes.base import AttributeModel
from adlens.backbone import DIMENSIONS, EMBEDDING_MODEL, mobilenet_feature_maps, open_feature_map_backbone, unit_rows
from adlens.columns import ATTRIBUTE_NAMES
from adlens.runtime import OrtSession, TFLiteSession, open_session

FACE_ATTRIBUTES = ATTRIBUTE_NAMES
"""The head's outputs, in order: the attributes declared in :data:`adlens.columns.ATTRIBUTES`."""
BACKBONE = EMBEDDING_MODEL
HEAD = "face-attributes-head"
FEATURES = 2 * DIMENSIONS
"""Width of :func:`attribute_features`: the feature map's mean, then its max."""

#: 1.7 times the face box's side, centred 0.25 box sides above the face's centre: forehead,
#: hat and ears are in, and the chin still is. At 128 px the backbone costs about a third of
#: what it does at 224 px; the tighter crop keeps the face at 75 px across (picked by
#: cross-validation among 112 and 128 px and pads 0.25–0.5; see the model card).
ATTRIBUTE_CROP = CropSpec(size=128, pad=0.35, shift_y=-0.25)


def attribute_features(backbone: TFLiteSession, crops: np.ndarray) -> np.ndarray:
    """Features ``(n, 2048)`` float32 of ATTRIBUTE_CROP crops ``(n, 128, 128, 3)`` uint8 RGB.

    ``backbone`` is the feature-map backbone; its map's mean and max over positions are
    concatenated and L2-normalised together. An empty batch runs nothing.
    """
    if len(crops) == 0:
        return np.zeros((0, FEATURES), dtype=np.float32)
    maps = mobilenet_feature_maps(backbone, crops)
    return unit_rows(np.concatenate([maps.mean(axis=1), maps.max(axis=1)], axis=1))


class _FeaturesThenHead:
    """A session made of the backbone and the head, run one after the other."""

    def __init__(self, backbone: TFLiteSession, head: OrtSession) -> None:
        self.backbone = backbone
        self.head = head

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.head.run(attribute_features(self.backbone, batch))


class FaceAttributes(AttributeModel):
    """P(eyewear), P(beard), P(hat) per face (adlens's own head; see its model card)."""

    name = HEAD  # one name per model: the registry's
    model_name = HEAD
    crop = ATTRIBUTE_CROP
    columns = FACE_ATTRIBUTES
    output_width = len(FACE_ATTRIBUTES)
    batch_size = 32
    stage = "eyewear_beard_hat"
    required_models = (BACKBONE, HEAD)

    def _open(self) -> _FeaturesThenHead:
        backbone = open_feature_map_backbone(ATTRIBUTE_CROP.size, self.settings)
        head = open_session(HEAD, self.settings)
        assert isinstance(head, OrtSession)
        return _FeaturesThenHead(backbone, head)

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        return crops

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        output = output.reshape(-1, len(FACE_ATTRIBUTES)).astype(np.float32)
        return {name: output[:, i] for i, name in enumerate(FACE_ATTRIBUTES)}
