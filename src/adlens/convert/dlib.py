"""Convert a dlib DNN file (``serialize(net, "x.dat")``) to ONNX, with numpy and onnx only.

How dlib writes a network (``dlib/dnn/core.h``, ``layers.h``, ``input.h``, ``loss.h``):

- Integers are a size byte (low four bits: how many bytes follow; bit 7: negative) and
  that many little-endian bytes. A ``float``/``double`` is two such integers, a mantissa
  and a power-of-two exponent. A string is its length, then its bytes; a ``bool`` is the
  character ``'1'`` or ``'0'``.
- A tensor is a version (2: raw little-endian float32 values; 1: each value as a float
  pair), its four dimensions ``num_samples, k, nr, nc``, then ``n·k·nr·nc`` values.
- The loss layer comes first (version 1, its name such as ``loss_metric_2`` and its
  settings), then the network from the top down: every layer writes its version, then
  its whole sub-network, then its own details. So the file starts with one version
  number per layer (2 for a computing layer, 3 for the one on the input, 1 for a *tag*
  or *skip* layer), then the input layer (``input_rgb_image_sized``…), then the details
  of every computing layer from the input upwards, each followed by three flags and
  three (empty) tensors, and the one on the input by its sample expansion factor.

Tags, skips and the tag an ``add_prev`` reads are template parameters in C++: the file
holds only their positions. :data:`WIRINGS` names them for the networks adlens knows
(dlib's face-recognition ResNet); a network without tag layers needs none.

The ONNX graph takes ``input`` float32 ``[batch, rows, cols, 3]``, RGB 0–255 as dlib's
``matrix<rgb_pixel>`` (the mean subtraction and ``/256`` happen inside), and gives
``output`` ``[batch, features]``: the network's last tensor flattened in dlib's
``k, nr, nc`` order (the loss layer itself is left out: for ``loss_metric`` that is the
embedding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from adlens.convert.onnxgraph import INPUT_NAME, OUTPUT_NAME, TO_NCHW, GraphBuilder, write_model
from adlens.errors import InvalidInputError

_SPECIAL_EXPONENTS = {32000: math.inf, 32001: -math.inf, 32002: math.nan, 32003: math.nan}
"""dlib's ``float_details`` exponents for inf, -inf and the two NaNs."""


# --------------------------------------------------------------------------- reading the stream


class _Stream:
    """dlib's serialisation primitives over the bytes of one file."""

    def __init__(self, data: bytes, label: str) -> None:
        self.data, self.label, self.pos = data, label, 0

    def error(self, why: str) -> InvalidInputError:
        return InvalidInputError(f"{self.label}: not a dlib DNN file this converter reads ({why}, at byte {self.pos})")

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise self.error("the file ends early")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def integer(self) -> int:
        head = self.take(1)[0]
        size = head & 0x0F
        if size == 0 or size > 8 or head & 0x70:
            raise self.error(f"bad integer header 0x{head:02x}")
        value = int.from_bytes(self.take(size), "little")
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent in _SPECIAL_EXPONENTS:
            return _SPECIAL_EXPONENTS[exponent]
        return math.ldexp(mantissa, exponent)

    def string(self) -> str:
        return self.take(self.integer()).decode("latin-1")

    def peek_string(self) -> str:
        """The string at the current position if there is one (else ``""``), without moving."""
        mark = self.pos
        try:
            return self.string()
        except InvalidInputError:
            return ""
        finally:
            self.pos = mark

    def flag(self) -> bool:
        value = self.take(1)
        if value not in (b"0", b"1"):
            raise self.error(f"bad bool {value!r}")
        return value == b"1"

    def tensor(self) -> np.ndarray:
        """A tensor as float32 ``(num_samples, k, nr, nc)``."""
        version = self.integer()
        shape = tuple(self.integer() for _ in range(4))
        if any(d < 0 for d in shape):
            raise self.error(f"negative tensor dimension {shape}")
        count = math.prod(shape)
        if version == 2:
            return np.frombuffer(self.take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)
        if version == 1:
            return np.array([self.real() for _ in range(count)], dtype=np.float32).reshape(shape)
        raise self.error(f"tensor version {version}")

    def alias(self) -> tuple[int, int, int, int]:
        """An ``alias_tensor``'s shape (a view into a layer's parameters)."""
        version = self.integer()
        if version != 1:
            raise self.error(f"alias_tensor version {version}")
        n, k, nr, nc = (self.integer() for _ in range(4))
        return n, k, nr, nc


# --------------------------------------------------------------------------- the network


@dataclass
class DlibLayer:
    """One layer, input upwards: ``kind`` is dlib's name without version (``con``, ``tag``…)."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class DlibNetwork:
    """What a dlib DNN file holds: input layer, layers from the input upwards, loss."""

    input: DlibLayer
    layers: list[DlibLayer]
    loss: DlibLayer | None


def _multipliers(s: _Stream) -> None:
    for _ in range(4):  # learning-rate and weight-decay multipliers: training only
        s.real()


def _split(params: np.ndarray, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Consecutive views of a layer's flat parameters, shaped as its alias tensors say."""
    flat, out, start = params.reshape(-1), [], 0
    for shape in shapes:
        size = math.prod(shape)
        if start + size > flat.size:
            raise InvalidInputError(f"layer parameters hold {flat.size} values, fewer than their views need")
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out


def _con(s: _Stream) -> dict[str, Any]:
    params = s.tensor()
    filters, nr, nc, stride_y, stride_x, pad_y, pad_x = (s.integer() for _ in range(7))
    kernel_shape, bias_shape = s.alias(), s.alias()
    _multipliers(s)
    kernel, bias = _split(params, kernel_shape, bias_shape)
    if kernel.shape[0] != filters or kernel.shape[2:] != (nr, nc) or bias.size != filters:
        raise s.error(f"con parameters {kernel.shape}/{bias.shape} do not fit {filters} filters of {nr}x{nc}")
    return {"kernel": kernel, "bias": bias.reshape(-1), "strides": [stride_y, stride_x], "pads": [pad_y, pad_x]}


def _fc(s: _Stream) -> dict[str, Any]:
    outputs, inputs = s.integer(), s.integer()
    params = s.tensor()
    weights_shape, bias_shape = s.alias(), s.alias()
    has_bias = s.integer() == 0  # FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    _multipliers(s)
    weights, bias = _split(params, weights_shape, bias_shape)
    return {"weights": weights.reshape(inputs, outputs), "bias": bias.reshape(-1) if has_bias else None}


def _affine(s: _Stream) -> dict[str, Any]:
    params = s.tensor()
    gamma, beta = _split(params, s.alias(), s.alias())
    return {"gamma": gamma, "beta": beta, "conv": s.integer() == 0}  # CONV_MODE = 0, FC_MODE = 1


def _batch_norm(conv: bool) -> Callable[[_Stream], dict[str, Any]]:
    def read(s: _Stream) -> dict[str, Any]:
        params = s.tensor()
        gamma, beta = _split(params, s.alias(), s.alias())
        s.tensor(), s.tensor()  # the last training batch's means and inverse deviations
        means, variances = s.tensor(), s.tensor()
        s.integer(), s.integer()  # updates so far, running-statistics window
        _multipliers(s)
        eps = s.real()
        # Inference: gamma·(x − mean)/√(var + eps) + beta, as one scale and shift.
        scale = gamma.astype(np.float64) / np.sqrt(variances.reshape(gamma.shape).astype(np.float64) + eps)
        shift = beta - means.reshape(gamma.shape) * scale
        return {"gamma": scale.astype(np.float32), "beta": shift.astype(np.float32), "conv": conv}
    return read


def _pool(s: _Stream) -> dict[str, Any]:
    nr, nc, stride_y, stride_x, pad_y, pad_x = (s.integer() for _ in range(6))
    return {"window": [nr, nc], "strides": [stride_y, stride_x], "pads": [pad_y, pad_x]}


def _prelu(s: _Stream) -> dict[str, Any]:
    slope = s.tensor().reshape(-1)
    s.real()  # initial value: training only
    return {"slope": slope}


def _nothing(s: _Stream) -> dict[str, Any]:
    return {}


def _l2normalize(s: _Stream) -> dict[str, Any]:
    return {"eps": s.real()}


LAYER_READERS: dict[str, tuple[str, Callable[[_Stream], dict[str, Any]]]] = {
    "con_4": ("con", _con),
    "fc_2": ("fc", _fc),
    "affine_": ("affine", _affine),
    "bn_con2": ("affine", _batch_norm(conv=True)),
    "bn_fc2": ("affine", _batch_norm(conv=False)),
    "max_pool_2": ("max_pool", _pool),
    "avg_pool_2": ("avg_pool", _pool),
    "relu_": ("relu", _nothing),
    "sig_": ("sig", _nothing),
    "htan_": ("htan", _nothing),
    "prelu_": ("prelu", _prelu),
    "add_prev_": ("add_prev", _nothing),
    "l2normalize_": ("l2normalize", _l2normalize),
}
"""Layer versions read (the name dlib writes first) → (kind, reader of the details)."""


def _input(s: _Stream, name: str) -> DlibLayer:
    if name not in ("input_rgb_image_sized", "input_rgb_image"):
        raise s.error(f"input layer {name!r} is not supported (supported: input_rgb_image, input_rgb_image_sized)")
    mean = [s.real() for _ in range(3)]
    size = (s.integer(), s.integer()) if name == "input_rgb_image_sized" else None
    return DlibLayer("input", {"mean": np.array(mean, dtype=np.float32), "size": size})


_LOSSES: dict[str, Callable[[_Stream], dict[str, Any]]] = {
    "loss_metric_": _nothing,
    "loss_metric_2": lambda s: {"margin": s.real(), "distance_threshold": s.real()},
    "loss_multiclass_log_": _nothing,
}


def read_dlib_dnn(src: str | Path) -> DlibNetwork:
    """Parse a dlib DNN file into its layers (tags and skips as placeholders, see :data:`WIRINGS`).

    Raises:
        InvalidInputError: not a dlib DNN file, or one with a layer type this converter lacks.
    """
    path = Path(src)
    s = _Stream(path.read_bytes(), path.name)
    loss = None
    versions: list[int] = []
    first = s.integer()
    if first == 1 and s.peek_string().startswith("loss_"):  # add_loss_layer: version 1, then the loss
        name = s.string()
        if name not in _LOSSES:
            raise s.error(f"loss layer {name!r} is not supported (supported: {', '.join(sorted(_LOSSES))})")
        loss = DlibLayer(name.rstrip("_0123456789"), _LOSSES[name](s))
    else:  # a network saved without its loss
        versions.append(first)
    while True:
        value = s.integer()
        if value not in (1, 2, 3):  # the input layer's name: its length, then its letters
            name = s.take(value).decode("latin-1")
            break
        versions.append(value)
    network = DlibNetwork(_input(s, name), [], loss)
    for version in reversed(versions):
        if version == 1:
            network.layers.append(DlibLayer("wire"))
            continue
        name = s.string()
        if name not in LAYER_READERS:
            raise s.error(f"layer {name!r} is not supported (supported: {', '.join(sorted(LAYER_READERS))})")
        kind, reader = LAYER_READERS[name]
        network.layers.append(DlibLayer(kind, reader(s)))
        for _ in range(3):  # set up, gradient stale, output disabled
            s.flag()
        for _ in range(3):  # gradients and cached output: empty once trained
            s.tensor()
        if version == 3:  # the layer on the input also writes its sample expansion factor
            s.integer()
    if s.pos != len(s.data):
        raise s.error(f"{len(s.data) - s.pos} bytes left after the network")
    return network


# --------------------------------------------------------------------------- tags and skips


def _face_resnet_v1() -> tuple[str, ...]:
    """``dlib_face_recognition_resnet_model_v1.dat`` (dlib's ``dnn_face_recognition_ex.cpp``), input first.

    An ``ares`` block tags its input and adds it back (``add_prev1<block<tag1<…>>>``); an
    ``ares_down`` block also tags its output, skips back to its input, pools that 2×2 and
    adds the two (``add_prev2<avg_pool<skip1<tag2<block<tag1<…>>>>>>``).
    """
    ares = ("tag1", "add_prev1")
    down = ("tag1", "tag2", "skip1", "add_prev2")
    levels = [ares * 3, down + ares * 3, down + ares * 2, down + ares * 2, down]
    return tuple(token for level in levels for token in level)


WIRINGS: dict[str, tuple[str, ...]] = {"dlib_face_recognition_resnet_model_v1": _face_resnet_v1()}
"""Known networks' tag, skip and add_prev layers in order from the input: ``tagN`` marks the
output below it, ``skipN`` continues from tag N, ``add_prevN`` adds tag N to the output below."""


def _wire(network: DlibNetwork, wiring: tuple[str, ...] | None) -> list[DlibLayer]:
    """The layers with tags, skips and add_prevs named by ``wiring`` (or the first known wiring that fits)."""
    slots = [layer for layer in network.layers if layer.kind in ("wire", "add_prev")]
    if not slots:
        return network.layers
    candidates = [wiring] if wiring is not None else list(WIRINGS.values())
    for tokens in candidates:
        if len(tokens) == len(slots) and all(
            (token.startswith("add_prev") == (slot.kind == "add_prev")) for token, slot in zip(tokens, slots, strict=True)
        ):
            layers = []
            named = iter(tokens)
            for layer in network.layers:
                if layer.kind in ("wire", "add_prev"):
                    token = next(named)
                    kind, tag = token.rstrip("0123456789"), token[len(token.rstrip("0123456789")):]
                    layer = DlibLayer(kind, {"tag": int(tag)})
                layers.append(layer)
            return layers
    raise InvalidInputError(
        f"this dlib network has {len(slots)} tag/skip/add_prev layers in a layout the converter does not know "
        f"(known: {', '.join(WIRINGS)}); give its wiring"
    )


# --------------------------------------------------------------------------- building the graph


@dataclass(frozen=True)
class _Value:
    """A tensor of the graph with its static shape ``(k, nr, nc)`` (batch left out)."""

    name: str
    shape: tuple[int, int, int]


def _pooled(size: int, window: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - window) // stride + 1


def _padded_to(g: GraphBuilder, x: _Value, shape: tuple[int, int, int]) -> str:
    """``x`` zero-padded at the end of each axis to ``shape`` (dlib adds tensors of different sizes so)."""
    if x.shape == shape:
        return x.name
    pads = np.array([0, 0, 0, 0, 0, *(t - s for t, s in zip(shape, x.shape, strict=True))], dtype=np.int64)
    return g.add("Pad", [x.name, g.constant("pads", pads)], "add_prev/pad")


def _image_op(g: GraphBuilder, layer: DlibLayer, x: _Value) -> _Value:
    k, nr, nc = x.shape
    v = layer.values
    if layer.kind == "con":
        kernel = v["kernel"]
        (sy, sx), (py, px) = v["strides"], v["pads"]
        if kernel.shape[1] != k:
            raise InvalidInputError(f"con expects {kernel.shape[1]} channels, gets {k}")
        name = g.add("Conv", [x.name, g.constant("con/w", kernel), g.constant("con/b", v["bias"])], "con",
                     kernel_shape=list(kernel.shape[2:]), strides=[sy, sx], pads=[py, px, py, px])
        wy, wx = kernel.shape[2:]
        return _Value(name, (kernel.shape[0], _pooled(nr, wy, sy, py), _pooled(nc, wx, sx, px)))
    if layer.kind in ("max_pool", "avg_pool"):
        (wy, wx), (sy, sx), (py, px) = v["window"], v["strides"], v["pads"]
        if wy == 0 and wx == 0:  # max_pool_everything / avg_pool_everything
            op = "GlobalMaxPool" if layer.kind == "max_pool" else "GlobalAveragePool"
            return _Value(g.add(op, [x.name], layer.kind), (k, 1, 1))
        wy, wx = wy or nr, wx or nc
        op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"  # padding left out of the mean, as in dlib
        name = g.add(op, [x.name], layer.kind, kernel_shape=[wy, wx], strides=[sy, sx], pads=[py, px, py, px])
        return _Value(name, (k, _pooled(nr, wy, sy, py), _pooled(nc, wx, sx, px)))
    if layer.kind == "affine":
        gamma, beta = v["gamma"], v["beta"]
        shape = (1, k, 1, 1) if v["conv"] else (1, k, nr, nc)
        scaled = g.add("Mul", [x.name, g.constant("affine/gamma", gamma.reshape(shape))], "affine")
        return _Value(g.add("Add", [scaled, g.constant("affine/beta", beta.reshape(shape))], "affine"), x.shape)
    if layer.kind == "fc":
        weights, bias = v["weights"], v["bias"]
        if weights.shape[0] != k * nr * nc:
            raise InvalidInputError(f"fc expects {weights.shape[0]} inputs, gets {k * nr * nc}")
        flat = g.add("Flatten", [x.name], "fc", axis=1)
        name = g.add("MatMul", [flat, g.constant("fc/w", weights)], "fc")
        if bias is not None:
            name = g.add("Add", [name, g.constant("fc/b", bias)], "fc")
        shaped = g.add("Reshape", [name, g.constant("fc/shape", np.array([-1, weights.shape[1], 1, 1]))], "fc")
        return _Value(shaped, (weights.shape[1], 1, 1))
    if layer.kind == "l2normalize":
        squares = g.add("ReduceSumSquare", [x.name], "l2normalize", axes=[1, 2, 3], keepdims=1)
        norm = g.add("Sqrt", [g.add("Add", [squares, g.constant("eps", np.array(v["eps"], np.float32))], "l2")], "l2")
        return _Value(g.add("Div", [x.name, norm], "l2normalize"), x.shape)
    if layer.kind == "prelu":
        return _Value(g.add("PRelu", [x.name, g.constant("prelu/slope", v["slope"])], "prelu"), x.shape)
    unary = {"relu": "Relu", "sig": "Sigmoid", "htan": "Tanh"}
    return _Value(g.add(unary[layer.kind], [x.name], layer.kind), x.shape)


def build_onnx(network: DlibNetwork, wiring: tuple[str, ...] | None = None,
               input_size: tuple[int, int] | None = None) -> onnx.ModelProto:
    """The checked ONNX model of ``network`` (see the module's docstring for its input and output)."""
    size = network.input.values["size"] or input_size
    if size is None:
        raise InvalidInputError("this dlib network's input layer has no fixed size: give input_size")
    g = GraphBuilder()
    graph_input = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", size[0], size[1], 3])
    nchw = g.add("Transpose", [INPUT_NAME], "input", perm=TO_NCHW)
    centred = g.add("Sub", [nchw, g.constant("input/mean", network.input.values["mean"].reshape(1, 3, 1, 1))], "input")
    x = _Value(g.add("Mul", [centred, g.constant("input/scale", np.array(1 / 256, np.float32))], "input"),
               (3, size[0], size[1]))
    tags: dict[int, _Value] = {}
    for layer in _wire(network, wiring):
        if layer.kind == "tag":
            tags[layer.values["tag"]] = x
        elif layer.kind in ("skip", "add_prev"):
            other = tags.get(layer.values["tag"])
            if other is None:
                raise InvalidInputError(f"{layer.kind}{layer.values['tag']} reads a tag no layer below sets")
            if layer.kind == "skip":
                x = other
            else:
                (k1, r1, c1), (k2, r2, c2) = x.shape, other.shape
                shape = (max(k1, k2), max(r1, r2), max(c1, c2))
                x = _Value(g.add("Add", [_padded_to(g, x, shape), _padded_to(g, other, shape)], "add_prev"), shape)
        else:
            x = _image_op(g, layer, x)
    g.add("Flatten", [x.name], "output", output=OUTPUT_NAME, axis=1)
    props = {"source_format": "dlib-dnn", "dlib_loss": network.loss.kind if network.loss else "none"}
    return g.model(graph_input, "adlens.convert.dlib", props)


def convert_dlib_dnn(src: str | Path, dst: str | Path, wiring: tuple[str, ...] | None = None,
                     input_size: tuple[int, int] | None = None) -> None:
    """Read a dlib DNN file and write the equivalent ONNX model to ``dst``.

    ``wiring`` names the tag, skip and add_prev layers when the network is not in
    :data:`WIRINGS`; ``input_size`` (rows, cols) is needed when the input layer has no size.

    Raises:
        InvalidInputError: not a dlib DNN file, a layer type or wiring this converter lacks.
    """
    write_model(build_onnx(read_dlib_dnn(src), wiring, input_size), dst)
