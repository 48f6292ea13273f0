"""The attribute models adlens ships: emotion, age and gender."""

from __future__ import annotations

import numpy as np

from adlens.align import CropSpec
from adlens.attributes.base import AttributeModel, gender_columns, xception_input
from adlens.faces import EMOTIONS

# Median YuNet landmarks in UTKFace's aligned 200×200 chips (1,000 chips of
# utkface_random_200, spread about 2% of the side): the UTKFace-trained models
# get their crop aligned onto these points, as they were trained.
UTKFACE_TEMPLATE = ((0.2872, 0.2903), (0.6835, 0.2961), (0.4724, 0.5052), (0.3124, 0.6785), (0.6420, 0.6852))


class MiniXceptionEmotion(AttributeModel):
    """FER2013 mini-Xception (oarriaga): 7-class distribution, 65.7% on PrivateTest."""

    name = "emotion-mini-xception"
    model_name = "emotion-mini-xception"
    crop = CropSpec(size=64, pad=0.0, gray=True)
    columns = ("emotion",)
    output_width = len(EMOTIONS)

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        return xception_input(crops)

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return {"emotion": output.reshape(-1, len(EMOTIONS)).astype(np.float32)}


class BigXceptionEmotion(MiniXceptionEmotion):
    """FER2013 big-Xception (oarriaga): 66.7% on PrivateTest, about 3× the cost."""

    name = "emotion-big-xception"
    model_name = "emotion-big-xception"


class MiniXceptionGender(AttributeModel):
    """IMDB gender mini-Xception (oarriaga); wants the box padded 40% per side."""

    name = "gender-mini-xception"
    model_name = "gender-mini-xception"
    crop = CropSpec(size=64, pad=0.4, gray=True)
    columns = ("gender", "gender_confidence")
    output_width = 2

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        return xception_input(crops)

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return gender_columns(output.reshape(-1, 2)[:, 0])  # [woman, man]


class MobileNetGender(AttributeModel):
    """shubham0204's UTKFace gender CNN (TFLite): RGB 128×128, x/255 → [male, female]."""

    name = "gender-mobilenet"
    model_name = "gender-mobilenet"
    crop = CropSpec(size=128, template=UTKFACE_TEMPLATE)
    columns = ("gender", "gender_confidence")
    output_width = 2

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        return crops.astype(np.float32) / 255.0

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return gender_columns(output.reshape(-1, 2)[:, 1])


class MobileNetAge(AttributeModel):
    """shubham0204's UTKFace age regressor (TFLite): RGB 200×200, x/255 → age / 116."""

    name = "age-mobilenet"
    model_name = "age-mobilenet"
    crop = CropSpec(size=200, template=UTKFACE_TEMPLATE)
    columns = ("age",)
    output_width = 1
    batch_size = 16

    def _preprocess(self, crops: np.ndarray) -> np.ndarray:
        return crops.astype(np.float32) / 255.0

    def _postprocess(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return {"age": np.clip(output.reshape(-1) * 116.0, 0.0, 116.0).astype(np.float32)}
