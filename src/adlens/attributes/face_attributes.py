"""Eyewear, beard and hat: a head trained by adlens on features of a padded face crop.

The crop reaches above the face (a hat) and around it (frames); MobileNetV1 (the
registry's ``mobilenet-v1-embedding``, Apache-2.0) reads it at 128×128 without its
final pool (:func:`~adlens.backbone.open_feature_map_backbone`); the mean and the
max of its last 4×4 feature map over positions, and those of the lower halves of two
mid-level maps it computes on the way (8×8×512 and 16×16×256: the finer texture of a
beard), each block L2-normalised (:func:`attribute_features`), feed a small ONNX head shipped with adlens
(``face-attributes-head``), which gives one probability per attribute. The same
:func:`attribute_features` is used to train the head (``adlens train attributes``),
so training and inference see identical inputs.
"""

from __future__ import annotations

import numpy as np

from adlens.align import CropSpec
from adlens.attributes.base import AttributeModel
from adlens.backbone import EMBEDDING_MODEL, FeatureMapSession, open_feature_map_backbone, unit_rows
from adlens.columns import ATTRIBUTE_NAMES
from adlens.runtime import OrtSession, open_session

FACE_ATTRIBUTES = ATTRIBUTE_NAMES
"""The head's outputs, in order: the attributes declared in :data:`adlens.columns.ATTRIBUTES`."""
BACKBONE = EMBEDDING_MODEL
HEAD = "face-attributes-head"
MAP_CHANNELS = (1024, 512, 256)
"""Channels of the backbone's maps :func:`attribute_features` reads: the last, then the mid-level ones."""
FEATURES = 2 * sum(MAP_CHANNELS)
"""Width of :func:`attribute_features`: each map's mean, then its max (3,584)."""

#: 1.7 times the face box's side, centred 0.25 box sides above the face's centre: forehead,
#: hat and ears are in, and the chin still is. At 128 px the backbone costs about a third of
#: what it does at 224 px; the tighter crop keeps the face at 75 px across (picked by
#: cross-validation among 112 and 128 px and pads 0.25–0.5; see the model card).
ATTRIBUTE_CROP = CropSpec(size=128, pad=0.35, shift_y=-0.25)


def attribute_features(backbone: FeatureMapSession, crops: np.ndarray) -> np.ndarray:
    """Features ``(n, 3584)`` float32 of ATTRIBUTE_CROP crops ``(n, 128, 128, 3)`` uint8 RGB.

    ``backbone`` is the feature-map backbone. Its last map (4×4×1024) gives its mean and max
    over positions; each mid-level map (8×8×512, 16×16×256) the mean and max over its lower half
    (mouth and chin: the crop's centre is above the face's). Each map's pair is L2-normalised
    on its own, then the three are concatenated. An empty batch runs nothing.
    """
    if len(crops) == 0:
        return np.zeros((0, FEATURES), dtype=np.float32)
    last, *mid = backbone.maps(np.ascontiguousarray(crops, dtype=np.uint8))
    if [m.shape[-1] for m in (last, *mid)] != list(MAP_CHANNELS):
        raise ValueError(f"the backbone's maps have {[m.shape[-1] for m in (last, *mid)]} channels, "
                         f"not {list(MAP_CHANNELS)}")
    blocks = [_mean_and_max(last)] + [_mean_and_max(m[:, m.shape[1] // 2:]) for m in mid]
    return np.concatenate(blocks, axis=1).astype(np.float32)


def _mean_and_max(maps: np.ndarray) -> np.ndarray:
    """The L2-normalised mean and max over positions ``(n, 2c)`` of maps ``(n, h, w, c)``."""
    flat = maps.reshape(len(maps), -1, maps.shape[-1])
    return unit_rows(np.concatenate([flat.mean(axis=1), flat.max(axis=1)], axis=1))


class _FeaturesThenHead:
    """A session made of the backbone and the head, run one after the other."""

    def __init__(self, backbone: FeatureMapSession, head: OrtSession) -> None:
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
