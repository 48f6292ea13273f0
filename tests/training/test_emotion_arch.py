from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from adlens.training.emotion_arch import EmotionNet, Plain, WithFlip, export_onnx, parse_arch  # noqa: E402


@pytest.mark.parametrize(("arch", "expected"), [
    ("32-64-128-256x2", ((32, 64, 128, 256), 2)),
    ("16-32x1", ((16, 32), 1)),
])
def test_parse_arch(arch, expected):
    assert parse_arch(arch) == expected


@pytest.mark.parametrize("arch", ["", "32-64", "0-8x1", "8-8-8-8-8x1", "8x0"])
def test_parse_arch_refuses(arch):
    with pytest.raises(InvalidInputError):
        parse_arch(arch)


def _trained_looking(arch: str) -> torch.nn.Module:
    """A net with non-trivial batch-norm statistics, so the export must carry them."""
    torch.manual_seed(0)
    net = EmotionNet(arch)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
    return net.eval()


@pytest.mark.parametrize("flip", [True, False])
def test_onnx_matches_torch(tmp_path, flip):
    net = _trained_looking("16-32-64-128x2")
    path = export_onnx(net, tmp_path / "net.onnx", flip=flip)
    faces = np.random.default_rng(1).random((5, 1, 48, 48), dtype=np.float32)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"face": faces})[0]
    with torch.no_grad():
        expected = (WithFlip(net) if flip else Plain(net))(torch.from_numpy(faces)).numpy()
    assert got.shape == (5, 7)
    assert np.abs(got - expected).max() <= 1e-4
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-5)


def test_flip_is_the_mean_of_a_face_and_its_mirror():
    net = _trained_looking("8-16x1")
    face = torch.rand(1, 1, 48, 48)
    with torch.no_grad():
        both = WithFlip(net)(face)
        plain, mirrored = Plain(net)(face), Plain(net)(torch.flip(face, dims=[3]))
    torch.testing.assert_close(both, (plain + mirrored) / 2)
