"""adlens's own emotion network (``emotion-net``): trained on FER2013 by ``adlens train emotion``.

A VGG-style CNN exported to ONNX with the test-time flip inside the graph (the mean of the
softmaxes of the face and of its mirror image), shipped in ``adlens/weights`` with its model card.
Its crop is the detector box, grey, at 48×48 (FER2013's own framing and size), values x / 255.
"""

from __future__ import annotations

import numpy as np

from adlens.align import CropSpec
from adlens.attributes.base import AttributeModel
from adlens.faces import EMOTIONS

EMOTION_NET = "emotion-net"
#: FER2013's faces are 48×48 grey crops of about the detector's box: the net sees the same.
EMOTION_NET_CROP = CropSpec(size=48, pad=0.0, gray=True)


class EmotionNet(AttributeModel):
    """adlens's FER2013 CNN: a 7-class distribution (see ``weights/emotion_net.md`` for its accuracy)."""

    name = EMOTION_NET
    model_name = EMOTION_NET
    crop = EMOTION_NET_CROP
    columns = ("emotion",)
    output_width = len(EMOTIONS)

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        # (n, 48, 48, 1) uint8 → (n, 1, 48, 48) float in [0, 1]
        return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return {"emotion": output.reshape(-1, len(EMOTIONS)).astype(np.float32)}
