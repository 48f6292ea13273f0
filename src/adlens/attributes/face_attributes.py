"""Eyewear, beard and hat: a head trained by adlens on features of a padded face crop.

The crop reaches above the face (a hat) and around it (frames); MobileNetV1's
1,024-d embedding of it (the registry's ``mobilenet-v1-embedding``, Apache-2.0)
is L2-normalised and fed to a small ONNX head shipped with adlens
(``face-attributes-head``), which gives one probability per attribute. The
same :func:`~adlens.backbone.mobilenet_embeddings` is used to train the head (``adlens train
attributes``), so training and inference see identical inputs.
"""

from __future__ import annotations

import numpy as np

from adlens.align import CropSpec
from adlens.attributes.base import AttributeModel
from adlens.backbone import EMBEDDING_MODEL, mobilenet_embeddings
from adlens.columns import ATTRIBUTE_NAMES
from adlens.runtime import OrtSession, TFLiteSession, open_session

FACE_ATTRIBUTES = ATTRIBUTE_NAMES
"""The head's outputs, in order: the attributes declared in :data:`adlens.columns.ATTRIBUTES`."""
BACKBONE = EMBEDDING_MODEL
HEAD = "face-attributes-head"

#: Twice the face box's side, centred 0.3 box sides above the face's centre: forehead,
#: hat and ears are in, and the chin still is.
ATTRIBUTE_CROP = CropSpec(size=224, pad=0.5, shift_y=-0.3)


class _FeaturesThenHead:
    """A session made of the backbone and the head, run one after the other."""

    def __init__(self, backbone: TFLiteSession, head: OrtSession) -> None:
        self.backbone = backbone
        self.head = head

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.head.run(mobilenet_embeddings(self.backbone, batch))


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
        backbone = open_session(BACKBONE, self.settings)
        head = open_session(HEAD, self.settings)
        assert isinstance(backbone, TFLiteSession) and isinstance(head, OrtSession)
        return _FeaturesThenHead(backbone, head)

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        return crops

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        output = output.reshape(-1, len(FACE_ATTRIBUTES)).astype(np.float32)
        return {name: output[:, i] for i, name in enumerate(FACE_ATTRIBUTES)}
