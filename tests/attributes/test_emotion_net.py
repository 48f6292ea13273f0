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


@pytest.mark.slow
def test_shipped_weights_registry_and_floor_on_fer2013_privatetest():
    """Runs once trained weights ship (registry entry + factory); until then there is nothing to measure."""
    import hashlib
    import json
    from pathlib import Path

    import adlens
    from adlens.attributes import ATTRIBUTE_MODELS
    from adlens.attributes.emotion_net import EMOTION_NET
    from adlens.evaluation.demographics import evaluate_emotion
    from adlens.modelspecs import BUNDLED, get_spec
    from helpers import DATA, need

    if EMOTION_NET not in ATTRIBUTE_MODELS:
        pytest.skip("no trained emotion-net ships yet (docs/emotion-training.md)")
    spec = get_spec(EMOTION_NET)
    weights = Path(adlens.__file__).parent / "weights"
    data = (weights / spec.filename).read_bytes()
    assert spec.url == BUNDLED and hashlib.sha256(data).hexdigest() == spec.sha256 and len(data) == spec.size_bytes
    assert spec.size_bytes < 8_000_000
    report = json.loads((weights / "emotion_net.json").read_text())
    assert report["onnx"]["sha256"] == spec.sha256
    result = evaluate_emotion(need(DATA / "fer2013_privatetest" / "test"), model=EMOTION_NET)
    assert result["n"] == 3589
    assert result["accuracy"] >= 0.70
    assert result["accuracy"] == pytest.approx(report["validation"]["flip"]["accuracy"], abs=0.003)
    assert report["latency_ms_one_thread"]["with_flip"]["min"] <= 5.0
