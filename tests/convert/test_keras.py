"""Tests of the Keras HDF5 → ONNX converter.

The real models are read from ``../shared/models`` (never copied into the
project). Their expected outputs below were computed once with Keras 3.15.1
on the JAX backend, outside the project; no test imports Keras.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image

from adlens.convert.keras import convert_keras_h5
from adlens.errors import InvalidInputError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MODELS = SHARED / "models"
FER_TEST = SHARED / "data" / "fer2013_privatetest" / "test"

EMOTION_ORDER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
MINI = "fer2013_mini_XCEPTION.102-0.66.hdf5"
BIG = "fer2013_big_XCEPTION.54-0.66.hdf5"
GENDER = "gender_mini_XCEPTION.21-0.95.hdf5"

# Keras 3.15.1 (JAX) softmax outputs for the two inputs of _reference_inputs().
KERAS_OUTPUTS = {
    MINI: [
        [0.000198, 0.000008, 0.000361, 0.900746, 0.000011, 0.004022, 0.094653],
        [0.112289, 0.000003, 0.006024, 0.05309, 0.005392, 0.000712, 0.82249],
    ],
    BIG: [
        [0.0, 0.0, 0.000003, 0.99793, 0.000005, 0.000001, 0.002061],
        [0.000069, 0.0, 0.015198, 0.94959, 0.022501, 0.008754, 0.003888],
    ],
    GENDER: [[0.855274, 0.144726], [0.950108, 0.049892]],
}


# --------------------------------------------------------------------------- helpers


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``converted(name)`` → path of the ONNX conversion of ``../shared/models/name`` (once per session)."""
    cache: dict[str, Path] = {}
    folder = tmp_path_factory.mktemp("converted")

    def get(name: str) -> Path:
        if name not in cache:  # cached only once converted, so a skipped source stays a skip
            target = folder / f"{name}.onnx"
            convert_keras_h5(_require(MODELS / name), target)
            cache[name] = target
        return cache[name]

    return get


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _preprocess(gray: np.ndarray) -> np.ndarray:
    """The authors' preprocessing: 64×64 bilinear (PIL), x/255, then (x − 0.5) × 2."""
    resized = np.asarray(Image.fromarray(gray).resize((64, 64), Image.BILINEAR), np.float32)
    return (resized / 255.0 - 0.5) * 2.0


def _reference_inputs() -> np.ndarray:
    """A real FER2013 face and a synthetic pattern, shaped ``[2, 64, 64, 1]``."""
    face = np.asarray(Image.open(_require(FER_TEST / "happy" / "PrivateTest_10077120.jpg")).convert("L"))
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    pattern = np.sin(xx / 5.0) * np.cos(yy / 7.0)
    return np.stack([_preprocess(face), pattern])[..., None].astype(np.float32)


def _write_keras_h5(path: Path, model_config: Any, weights: dict[str, dict[str, np.ndarray]]) -> Path:
    """A Keras 2.0.5-style full-model file: ``model_config`` JSON plus ``model_weights/<layer>/<layer>_1/<role>:0``."""
    with h5py.File(path, "w") as h5:
        h5.attrs["keras_version"] = "2.0.5"
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["model_config"] = model_config if isinstance(model_config, str) else json.dumps(model_config)
        root = h5.create_group("model_weights")
        for layer, roles in weights.items():
            group = root.create_group(layer)
            names = [f"{layer}_1/{role}:0" for role in roles]
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
            for name, value in zip(names, roles.values(), strict=True):
                group.create_dataset(name, data=value)
    return path


def _sequential(*layers: tuple[str, dict[str, Any]], input_shape: list[int | None]) -> dict[str, Any]:
    """A Keras 2.0.5 Sequential config (a bare list of layers, the first with ``batch_input_shape``)."""
    entries = [{"class_name": kind, "config": {"name": f"l{i}", **cfg}} for i, (kind, cfg) in enumerate(layers)]
    entries[0]["config"]["batch_input_shape"] = input_shape
    return {"class_name": "Sequential", "config": entries}


def _conv_same_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """TensorFlow's 'same' convolution, in plain numpy (extra padding at the bottom/right)."""
    n, h, w, _ = x.shape
    kh, kw, _, cout = kernel.shape
    out_h, out_w = -(-h // stride), -(-w // stride)
    pad_h = max((out_h - 1) * stride + kh - h, 0)
    pad_w = max((out_w - 1) * stride + kw - w, 0)
    padded = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    out = np.zeros((n, out_h, out_w, cout), np.float64)
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out


# --------------------------------------------------------------------------- the real models


@pytest.mark.parametrize(("name", "classes"), [(MINI, 7), (BIG, 7), (GENDER, 2)])
def test_graph_has_the_keras_interface(converted: Any, name: str, classes: int) -> None:
    model = onnx.load(str(converted(name)))
    onnx.checker.check_model(model, full_check=True)
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert (graph_input.name, dims(graph_input)) == ("input", ["batch", 64, 64, 1])
    assert (graph_output.name, dims(graph_output)) == ("output", ["batch", classes])
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


@pytest.mark.parametrize("name", [MINI, BIG, GENDER])
def test_outputs_match_keras(converted: Any, name: str) -> None:
    probabilities = _session(converted(name)).run(None, {"input": _reference_inputs()})[0]
    np.testing.assert_allclose(probabilities, KERAS_OUTPUTS[name], atol=2e-6)


@pytest.mark.parametrize("name", [MINI, GENDER])
def test_batch_rows_are_independent(converted: Any, name: str) -> None:
    session = _session(converted(name))
    batch = np.random.default_rng(0).uniform(-1, 1, (5, 64, 64, 1)).astype(np.float32)
    together = session.run(None, {"input": batch})[0]
    one_by_one = np.concatenate([session.run(None, {"input": row[None]})[0] for row in batch])
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def fer_privatetest() -> tuple[np.ndarray, np.ndarray]:
    """The 3,589 FER2013 PrivateTest faces, preprocessed (``[N, 64, 64, 1]``), and their labels in model order."""
    files = sorted(_require(FER_TEST).glob("*/*.jpg"))
    assert len(files) == 3589
    labels = np.array([EMOTION_ORDER.index(f.parent.name) for f in files])
    images = np.stack([_preprocess(np.asarray(Image.open(f).convert("L"))) for f in files])[..., None]
    return images, labels


@pytest.mark.slow
@pytest.mark.parametrize(("name", "minimum", "published"), [(MINI, 0.65, 0.6567), (BIG, 0.66, 0.6668)])
def test_fer2013_privatetest_accuracy(
    converted: Any, fer_privatetest: tuple[np.ndarray, np.ndarray], name: str, minimum: float, published: float
) -> None:
    images, labels = fer_privatetest
    session = _session(converted(name))
    scores = np.concatenate([session.run(None, {"input": images[i : i + 512]})[0] for i in range(0, len(images), 512)])
    accuracy = float((scores.argmax(axis=1) == labels).mean())
    assert accuracy >= minimum
    assert accuracy == pytest.approx(published, abs=0.005)


# --------------------------------------------------------------------------- synthetic models


def test_sequential_conv_flatten_dense_matches_numpy(tmp_path: Path) -> None:
    """Keras 2.0.5 Sequential file; stride-2 'same' padding on an even size and Flatten's H, W, C order."""
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    dense = rng.normal(size=(3 * 2 * 4, 5)).astype(np.float32)
    dense_bias = rng.normal(size=5).astype(np.float32)
    config = _sequential(
        ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "activation": "relu"}),
        ("Flatten", {}),
        ("Dropout", {"rate": 0.5}),
        ("Dense", {"units": 5, "activation": "softmax"}),
        input_shape=[None, 6, 4, 2],
    )
    weights = {"l0": {"kernel": kernel, "bias": bias}, "l3": {"kernel": dense, "bias": dense_bias}}
    src = _write_keras_h5(tmp_path / "seq.h5", config, weights)
    convert_keras_h5(src, tmp_path / "seq.onnx")

    x = rng.normal(size=(3, 6, 4, 2)).astype(np.float32)
    features = np.maximum(_conv_same_nhwc(x, kernel, stride=2) + bias, 0).reshape(3, -1)
    logits = features @ dense + dense_bias
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    actual = _session(tmp_path / "seq.onnx").run(None, {"input": x})[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


def _bad_layer_file(tmp_path: Path) -> Path:
    config = _sequential(("Lambda", {"function": "..."}), input_shape=[None, 8, 8, 1])
    return _write_keras_h5(tmp_path / "lambda.h5", config, {})


def _missing_weight_file(tmp_path: Path) -> Path:
    config = _sequential(("Dense", {"units": 2}), input_shape=[None, 3])
    return _write_keras_h5(tmp_path / "noweights.h5", config, {"l0": {"kernel": np.ones((3, 2), np.float32)}})


def _wrong_kernel_file(tmp_path: Path) -> Path:
    config = _sequential(("Dense", {"units": 2, "use_bias": False}), input_shape=[None, 3])
    return _write_keras_h5(tmp_path / "wrong.h5", config, {"l0": {"kernel": np.ones((4, 2), np.float32)}})


def _bad_json_file(tmp_path: Path) -> Path:
    return _write_keras_h5(tmp_path / "json.h5", "{not json", {})


def _weights_only_file(tmp_path: Path) -> Path:
    with h5py.File(tmp_path / "weights.h5", "w") as h5:
        h5.create_dataset("dense/kernel:0", data=np.ones((3, 2), np.float32))
    return tmp_path / "weights.h5"


def _text_file(tmp_path: Path) -> Path:
    (tmp_path / "model.h5").write_text("not an HDF5 file")
    return tmp_path / "model.h5"


def _unknown_inbound_file(tmp_path: Path) -> Path:
    config = {
        "class_name": "Model",
        "config": {
            "name": "m",
            "layers": [
                {
                    "class_name": "InputLayer",
                    "name": "in",
                    "config": {"batch_input_shape": [None, 3]},
                    "inbound_nodes": [],
                },
                {
                    "class_name": "Activation",
                    "name": "act",
                    "config": {"activation": "relu"},
                    "inbound_nodes": [[["nowhere", 0, 0, {}]]],
                },
            ],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["act", 0, 0]],
        },
    }
    return _write_keras_h5(tmp_path / "dangling.h5", config, {})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_bad_layer_file, "'l0' (Lambda): layer type 'Lambda' is not supported"),
        (_missing_weight_file, "'l0' (Dense): missing weight 'bias'"),
        (_wrong_kernel_file, "the converted graph is invalid"),
        (_bad_json_file, "malformed model_config"),
        (_weights_only_file, "no 'model_config' attribute"),
        (_text_file, "not a readable HDF5 file"),
        (_unknown_inbound_file, "unknown layer 'nowhere'"),
        (lambda tmp_path: tmp_path / "absent.h5", "no such file"),
    ],
)
def test_unsupported_or_malformed_file_raises(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        convert_keras_h5(make(tmp_path), tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()
