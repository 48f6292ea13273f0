from __future__ import annotations

import numpy as np
import pytest

from adlens.attributes.emotion_net import EMOTION_NET_CROP, EmotionNet
from adlens.faces import EMOTIONS, Faces
from adlens.runtime import OrtSession

torch = pytest.importorskip("torch")

from adlens.training.emotion_arch import EmotionNet as TorchNet  # noqa: E402
from adlens.training.emotion_arch import WithFlip, export_onnx  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    net = TorchNet("8-16-32x1").eval()
    return net, export_onnx(net, tmp_path_factory.mktemp("emotion") / "emotion_net.onnx")


@pytest.fixture
def model(exported):
    path = exported[1]

    class FromFile(EmotionNet):
        """The real class, its network read from a test file instead of the registry."""

        def _open(self):
            return OrtSession(path, self.settings)

    return FromFile()


def test_crop_is_the_grey_48_px_face_box():
    assert (EMOTION_NET_CROP.size, EMOTION_NET_CROP.gray, EMOTION_NET_CROP.pad) == (48, True, 0.0)
    assert EmotionNet.columns == ("emotion",) and EmotionNet.output_width == len(EMOTIONS)


def test_crops_are_fed_as_torch_saw_them(model, exported):
    crops = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1), dtype=np.uint8)
    got = model.predict_crops(crops)["emotion"]
    with torch.no_grad():
        expected = WithFlip(exported[0])(torch.from_numpy(crops.transpose(0, 3, 1, 2).astype(np.float32) / 255)).numpy()
    assert got.shape == (3, len(EMOTIONS)) and got.dtype == np.float32
    assert np.abs(got - expected).max() <= 1e-4


def test_predict_on_an_image(model):
    image = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    faces = Faces(boxes=np.array([[20, 10, 60, 70], [90, 30, 50, 50]], np.float32), scores=np.ones(2, np.float32),
                  landmarks=np.zeros((2, 5, 2), np.float32))
    emotion = model.predict(image, faces).data["emotion"]
    np.testing.assert_allclose(emotion.sum(1), 1.0, atol=1e-5)
    assert len(model.predict(image, Faces.empty()).data["emotion"]) == 0
