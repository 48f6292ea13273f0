"""Convert a Keras full-model HDF5 file to ONNX, with h5py, numpy and onnx only.

A Keras *full model* file (``model.save("x.h5")``) holds the architecture as
JSON in the root attribute ``model_config`` and the weights in the group
``model_weights/<layer>``, whose ``weight_names`` attribute lists the datasets
(``<layer>_1/kernel:0`` in Keras 2, ``<layer>/kernel`` in Keras 3). Both
layouts are read; neither Keras nor TensorFlow is needed.

The ONNX graph keeps the Keras interface: one float32 input ``input`` shaped
``[batch, H, W, C]`` (channels-last) and one output ``output``. Inside, image
tensors are NCHW, as ONNX operators expect: the input is transposed once, and
a 4-D output is transposed back to channels-last.

Every Keras layer type maps to one small converter function, looked up in
:data:`CONVERTERS`. A layer type missing from it, or a file that is not a
Keras full model, raises :class:`~adlens.errors.InvalidInputError` naming the
layer.

Keras/TensorFlow ``padding="same"`` puts the odd extra pixel at the bottom and
right, which is ONNX's ``auto_pad="SAME_UPPER"`` (with stride 1 the padding
is written out as ``pads``); TensorFlow's "same" average pooling leaves the
padded pixels out of the mean, like ONNX's default ``count_include_pad=0``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper

from adlens.convert.onnxgraph import INPUT_NAME, OUTPUT_NAME, TO_NCHW, TO_NHWC, GraphBuilder, write_model
from adlens.errors import InvalidInputError

# --------------------------------------------------------------------------- model description


@dataclass(frozen=True)
class Tensor:
    """A value of the ONNX graph: its name and rank (4: an NCHW image, 2: ``[N, features]``)."""

    name: str
    rank: int


@dataclass
class KerasLayer:
    """One layer of the Keras model: its config, the layers it reads from, its weights by role."""

    name: str
    class_name: str
    config: dict[str, Any]
    inbound: list[str]
    weights: dict[str, np.ndarray]

    def error(self, why: str) -> InvalidInputError:
        """An :class:`InvalidInputError` that names this layer."""
        return InvalidInputError(f"Keras layer {self.name!r} ({self.class_name}): {why}")

    def weight(self, *roles: str, ndim: int) -> np.ndarray:
        """The weight stored under the first of ``roles`` present (e.g. ``kernel``), checked for rank."""
        for role in roles:
            if role in self.weights:
                value = self.weights[role]
                if value.ndim != ndim:
                    raise self.error(f"weight {role!r} has shape {value.shape}, expected {ndim} dimensions")
                return value
        raise self.error(f"missing weight {' or '.join(map(repr, roles))} (has {sorted(self.weights)})")


Converter = Callable[[GraphBuilder, KerasLayer, list[Tensor]], Tensor]
"""Turns one Keras layer, given its input tensors, into ONNX nodes; returns its output."""


# --------------------------------------------------------------------------- small helpers


def _pair(value: Any) -> list[int]:
    """Keras' ``3`` or ``[3, 3]`` → ``[3, 3]``."""
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return [int(v) for v in value]
    raise ValueError(f"expected an int or a pair of ints, got {value!r}")


def _single_input(layer: KerasLayer, inputs: list[Tensor], rank: int | None = None) -> Tensor:
    """The layer's only input, optionally checked to be of ``rank``."""
    if len(inputs) != 1:
        raise layer.error(f"expected one input, got {len(inputs)}")
    if rank is not None and inputs[0].rank != rank:
        raise layer.error(f"expected a {rank}-D input, got {inputs[0].rank}-D")
    return inputs[0]


def _image_input(layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    """The layer's only input, which must be a channels-last image (NCHW inside the graph)."""
    if layer.config.get("data_format", "channels_last") != "channels_last":
        raise layer.error(f"data_format {layer.config['data_format']!r} is not supported (channels_last only)")
    return _single_input(layer, inputs, rank=4)


def _padding(layer: KerasLayer, kernel: list[int], strides: list[int], dilations: list[int]) -> dict[str, Any]:
    """ONNX padding attributes for Keras' ``padding`` of a window with this geometry.

    With stride 1, "same" padding does not depend on the input size, so it is
    written as explicit ``pads`` (ONNX Runtime refuses ``auto_pad`` with
    dilations); with larger strides it is ``SAME_UPPER``, like TensorFlow.
    """
    padding = layer.config.get("padding", "valid")
    if padding == "valid":
        return {"pads": [0, 0, 0, 0]}
    if padding != "same":
        raise layer.error(f"padding {padding!r} is not supported")
    if all(s == 1 for s in strides):
        total = [(k - 1) * d for k, d in zip(kernel, dilations, strict=True)]
        return {"pads": [t // 2 for t in total] + [t - t // 2 for t in total]}
    if any(d != 1 for d in dilations):
        raise layer.error("'same' padding with both strides and dilation above 1 is not supported")
    return {"auto_pad": "SAME_UPPER"}


def _pool_padding(layer: KerasLayer) -> dict[str, Any]:
    """ONNX padding attributes for a pooling layer's ``padding``.

    Always ``auto_pad``, never explicit ``pads``: ONNX Runtime's PadFusion
    folds a preceding zero ``Pad`` (ZeroPadding2D) into a pool's explicit
    ``pads``, which pooling then ignores instead of reading as zeros.
    """
    padding = layer.config.get("padding", "valid")
    if padding not in ("valid", "same"):
        raise layer.error(f"padding {padding!r} is not supported")
    return {"auto_pad": "SAME_UPPER" if padding == "same" else "VALID"}


def _window(layer: KerasLayer, kernel_hw: tuple[int, ...]) -> dict[str, Any]:
    """Kernel size, strides, dilations and padding of a convolution."""
    kernel = [int(k) for k in kernel_hw]
    strides = _pair(layer.config.get("strides", 1))
    dilations = _pair(layer.config.get("dilation_rate", 1))
    return {
        "kernel_shape": kernel,
        "strides": strides,
        "dilations": dilations,
        **_padding(layer, kernel, strides, dilations),
    }


def _onnx_axis(layer: KerasLayer, axis: Any, rank: int) -> int:
    """A Keras (channels-last) axis of a rank-``rank`` tensor → the axis of its ONNX layout."""
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if not isinstance(axis, int) or not -rank <= axis < rank:
        raise layer.error(f"axis {axis!r} is not valid for a {rank}-D tensor")
    axis %= rank
    return TO_NHWC[axis] if rank == 4 else axis


def _bias(g: GraphBuilder, layer: KerasLayer) -> list[str]:
    """``[bias initializer]`` if the layer uses a bias, else ``[]``."""
    if not layer.config.get("use_bias", True):
        return []
    return [g.constant(f"{layer.name}.bias", layer.weight("bias", ndim=1))]


def _depthwise_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras depthwise kernel ``(kh, kw, cin, mult)`` → ONNX grouped kernel ``(cin*mult, 1, kh, kw)``.

    Keras orders the outputs as ``channel * mult + m``, which is ONNX's group order.
    """
    kh, kw, cin, mult = kernel.shape
    return kernel.reshape(kh, kw, cin * mult).transpose(2, 0, 1)[:, None, :, :]


# --------------------------------------------------------------------------- activations


def _softmax(g: GraphBuilder, x: Tensor, hint: str) -> Tensor:
    # Keras' softmax runs over the last (channel) axis, which is axis 1 in both ONNX layouts.
    return Tensor(g.add("Softmax", [x.name], hint, axis=1), x.rank)


def _unary(op: str, **attrs: Any) -> Callable[[GraphBuilder, Tensor, str], Tensor]:
    def apply(g: GraphBuilder, x: Tensor, hint: str) -> Tensor:
        return Tensor(g.add(op, [x.name], hint, **attrs), x.rank)

    return apply


ACTIVATIONS: dict[str, Callable[[GraphBuilder, Tensor, str], Tensor]] = {
    "linear": lambda g, x, hint: x,
    "relu": _unary("Relu"),
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "softmax": _softmax,
    "elu": _unary("Elu", alpha=1.0),
    "selu": _unary("Selu"),
    "softplus": _unary("Softplus"),
    "softsign": _unary("Softsign"),
}
"""Keras activation names → functions adding the ONNX equivalent."""


def _activate(g: GraphBuilder, layer: KerasLayer, x: Tensor) -> Tensor:
    """Apply the activation named in the layer's config (``linear`` when absent)."""
    name = layer.config.get("activation") or "linear"
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise layer.error(f"activation {name!r} is not supported (supported: {', '.join(sorted(ACTIVATIONS))})")
    return ACTIVATIONS[name](g, x, layer.name)


# --------------------------------------------------------------------------- layer converters


def _conv2d(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _image_input(layer, inputs)
    kernel = layer.weight("kernel", ndim=4)  # (kh, kw, cin / groups, cout)
    w = g.constant(f"{layer.name}.kernel", kernel.transpose(3, 2, 0, 1))
    y = g.add(
        "Conv",
        [x.name, w, *_bias(g, layer)],
        layer.name,
        group=int(layer.config.get("groups", 1)),
        **_window(layer, kernel.shape[:2]),
    )
    return _activate(g, layer, Tensor(y, 4))


def _depthwise_conv2d(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _image_input(layer, inputs)
    kernel = layer.weight("depthwise_kernel", "kernel", ndim=4)  # (kh, kw, cin, mult)
    w = g.constant(f"{layer.name}.depthwise_kernel", _depthwise_kernel(kernel))
    y = g.add(
        "Conv", [x.name, w, *_bias(g, layer)], layer.name, group=kernel.shape[2], **_window(layer, kernel.shape[:2])
    )
    return _activate(g, layer, Tensor(y, 4))


def _separable_conv2d(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _image_input(layer, inputs)
    depthwise = layer.weight("depthwise_kernel", ndim=4)  # (kh, kw, cin, mult)
    pointwise = layer.weight("pointwise_kernel", ndim=4)  # (1, 1, cin * mult, cout)
    dw = g.constant(f"{layer.name}.depthwise_kernel", _depthwise_kernel(depthwise))
    pw = g.constant(f"{layer.name}.pointwise_kernel", pointwise.transpose(3, 2, 0, 1))
    mid = g.add(
        "Conv", [x.name, dw], f"{layer.name}/depthwise", group=depthwise.shape[2], **_window(layer, depthwise.shape[:2])
    )
    y = g.add("Conv", [mid, pw, *_bias(g, layer)], layer.name, kernel_shape=[1, 1])
    return _activate(g, layer, Tensor(y, 4))


def _batch_normalization(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _single_input(layer, inputs)
    if _onnx_axis(layer, layer.config.get("axis", -1), x.rank) != 1:
        raise layer.error("only normalisation over the channel (last) axis is supported")
    mean = layer.weight("moving_mean", ndim=1)
    variance = layer.weight("moving_variance", ndim=1)
    gamma = layer.weight("gamma", ndim=1) if layer.config.get("scale", True) else np.ones_like(mean)
    beta = layer.weight("beta", ndim=1) if layer.config.get("center", True) else np.zeros_like(mean)
    params = [
        g.constant(f"{layer.name}.{role}", v)
        for role, v in (("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", variance))
    ]
    y = g.add("BatchNormalization", [x.name, *params], layer.name, epsilon=float(layer.config.get("epsilon", 1e-3)))
    return Tensor(y, x.rank)


def _activation(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    return _activate(g, layer, _single_input(layer, inputs))


def _relu(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _single_input(layer, inputs)
    max_value = layer.config.get("max_value")
    if float(layer.config.get("negative_slope") or 0) != 0 or float(layer.config.get("threshold") or 0) != 0:
        raise layer.error("ReLU with negative_slope or threshold is not supported")
    if max_value is None:
        return Tensor(g.add("Relu", [x.name], layer.name), x.rank)
    bounds = [g.constant(f"{layer.name}.{n}", np.array(v, np.float32)) for n, v in (("min", 0.0), ("max", max_value))]
    return Tensor(g.add("Clip", [x.name, *bounds], layer.name), x.rank)


def _leaky_relu(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _single_input(layer, inputs)
    slope = layer.config.get("negative_slope", layer.config.get("alpha", 0.3))
    return Tensor(g.add("LeakyRelu", [x.name], layer.name, alpha=float(slope)), x.rank)


def _softmax_layer(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _single_input(layer, inputs)
    axis = _onnx_axis(layer, layer.config.get("axis", -1), x.rank)
    return Tensor(g.add("Softmax", [x.name], layer.name, axis=axis), x.rank)


def _pooling(op: str) -> Converter:
    """MaxPooling2D / AveragePooling2D → ``op`` (MaxPool / AveragePool)."""

    def convert(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
        x = _image_input(layer, inputs)
        size = _pair(layer.config.get("pool_size", 2))
        strides = _pair(layer.config.get("strides") or size)
        padding = _pool_padding(layer)
        return Tensor(g.add(op, [x.name], layer.name, kernel_shape=size, strides=strides, **padding), 4)

    return convert


def _global_pooling(op: str) -> Converter:
    """GlobalAveragePooling2D / GlobalMaxPooling2D → ``op`` (ReduceMean / ReduceMax) over H and W."""

    def convert(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
        x = _image_input(layer, inputs)
        keepdims = bool(layer.config.get("keepdims", False))
        y = g.add(op, [x.name], layer.name, axes=[2, 3], keepdims=int(keepdims))
        return Tensor(y, 4 if keepdims else 2)

    return convert


def _merge(op: str, *, binary: bool = False) -> Converter:
    """Add / Average / Maximum / Minimum (n-ary ONNX ops) and Subtract / Multiply (chained binary ops)."""

    def convert(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
        if len(inputs) < 2 or len({t.rank for t in inputs}) != 1:
            raise layer.error(f"expected two or more inputs of the same rank, got ranks {[t.rank for t in inputs]}")
        if not binary:
            return Tensor(g.add(op, [t.name for t in inputs], layer.name), inputs[0].rank)
        if op == "Sub" and len(inputs) != 2:
            raise layer.error("Subtract takes exactly two inputs")
        acc = inputs[0].name
        for t in inputs[1:]:
            acc = g.add(op, [acc, t.name], layer.name)
        return Tensor(acc, inputs[0].rank)

    return convert


def _concatenate(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    ranks = {t.rank for t in inputs}
    if len(inputs) < 2 or len(ranks) != 1:
        raise layer.error(f"expected two or more inputs of the same rank, got ranks {[t.rank for t in inputs]}")
    rank = ranks.pop()
    axis = _onnx_axis(layer, layer.config.get("axis", -1), rank)
    return Tensor(g.add("Concat", [t.name for t in inputs], layer.name, axis=axis), rank)


def _identity(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    """Dropout and noise layers do nothing at inference."""
    x = _single_input(layer, inputs)
    return Tensor(g.add("Identity", [x.name], layer.name), x.rank)


def _flatten(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _single_input(layer, inputs)
    if x.rank == 2:
        return _identity(g, layer, inputs)
    if layer.config.get("data_format", "channels_last") != "channels_last":
        raise layer.error("Flatten with data_format channels_first is not supported")
    # Keras flattens in H, W, C order: go back to channels-last first.
    nhwc = g.add("Transpose", [x.name], f"{layer.name}/nhwc", perm=TO_NHWC)
    return Tensor(g.add("Flatten", [nhwc], layer.name, axis=1), 2)


def _dense(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _single_input(layer, inputs, rank=2)
    kernel = g.constant(f"{layer.name}.kernel", layer.weight("kernel", ndim=2))  # (in, out)
    y = g.add("Gemm", [x.name, kernel, *_bias(g, layer)], layer.name)
    return _activate(g, layer, Tensor(y, 2))


def _zero_padding2d(g: GraphBuilder, layer: KerasLayer, inputs: list[Tensor]) -> Tensor:
    x = _image_input(layer, inputs)
    padding = layer.config.get("padding", 1)
    if isinstance(padding, int) or (isinstance(padding, (list, tuple)) and all(isinstance(p, int) for p in padding)):
        (top, bottom), (left, right) = [_pair(p) for p in _pair(padding)]
    else:
        (top, bottom), (left, right) = [_pair(p) for p in padding]
    pads = g.constant(f"{layer.name}.pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
    return Tensor(g.add("Pad", [x.name, pads], layer.name), 4)


CONVERTERS: dict[str, Converter] = {
    "Conv2D": _conv2d,
    "DepthwiseConv2D": _depthwise_conv2d,
    "SeparableConv2D": _separable_conv2d,
    "BatchNormalization": _batch_normalization,
    "Activation": _activation,
    "ReLU": _relu,
    "LeakyReLU": _leaky_relu,
    "Softmax": _softmax_layer,
    "MaxPooling2D": _pooling("MaxPool"),
    "AveragePooling2D": _pooling("AveragePool"),
    "GlobalAveragePooling2D": _global_pooling("ReduceMean"),
    "GlobalMaxPooling2D": _global_pooling("ReduceMax"),
    "Add": _merge("Sum"),
    "Average": _merge("Mean"),
    "Maximum": _merge("Max"),
    "Minimum": _merge("Min"),
    "Subtract": _merge("Sub", binary=True),
    "Multiply": _merge("Mul", binary=True),
    "Concatenate": _concatenate,
    "Dropout": _identity,
    "SpatialDropout2D": _identity,
    "GaussianNoise": _identity,
    "GaussianDropout": _identity,
    "AlphaDropout": _identity,
    "Flatten": _flatten,
    "Dense": _dense,
    "ZeroPadding2D": _zero_padding2d,
}
"""Keras layer class name → converter. ``InputLayer`` is handled by :func:`build_onnx`."""


# --------------------------------------------------------------------------- reading the HDF5 file


def _fail(src: Path, why: str) -> InvalidInputError:
    return InvalidInputError(f"{src.name}: {why}")


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _keras3_histories(value: Any) -> Iterator[list[Any]]:
    """The ``keras_history`` of every tensor in a Keras 3 call's arguments."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"]
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _keras3_histories(item)


def _inbound(entry: dict[str, Any]) -> list[str]:
    """Names of the layers feeding ``entry`` (Keras 2 lists or Keras 3 call records)."""
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ValueError("the layer is called more than once (shared layers are not supported)")
    if not nodes:
        return []
    node = nodes[0]
    refs = list(_keras3_histories(node.get("args", []))) if isinstance(node, dict) else node
    for ref in refs:
        if int(ref[1]) != 0 or int(ref[2]) != 0:
            raise ValueError(f"reads output {ref[1]}/{ref[2]} of {ref[0]!r} (multi-output layers are not supported)")
    return [str(ref[0]) for ref in refs]


def _endpoint(refs: Any, what: str) -> str:
    """The single layer named in a model's ``input_layers`` / ``output_layers``."""
    if isinstance(refs, list) and refs and isinstance(refs[0], str):
        refs = [refs]
    if not isinstance(refs, list) or len(refs) != 1:
        raise ValueError(f"the model must have exactly one {what}, found {refs!r}")
    return str(refs[0][0])


def _layer_entries(config: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str]:
    """The layer entries of a functional or Sequential model, with inbound nodes and endpoints."""
    kind = config["class_name"]
    body = config["config"]
    if kind in ("Model", "Functional"):
        entries = body["layers"]
        return entries, _endpoint(body["input_layers"], "input"), _endpoint(body["output_layers"], "output")
    if kind == "Sequential":
        layers = [dict(e) for e in (body if isinstance(body, list) else body["layers"])]
        if not layers:
            raise ValueError("the Sequential model has no layers")
        if layers[0]["class_name"] != "InputLayer":
            first = layers[0]["config"]
            shape = first.get("batch_input_shape") or first.get("batch_shape")
            name = f"{first.get('name', 'layer')}_input"
            layers.insert(0, {"class_name": "InputLayer", "config": {"name": name, "batch_input_shape": shape}})
        for previous, entry in pairwise(layers):
            entry["inbound_nodes"] = [[[previous["config"]["name"], 0, 0, {}]]]
        layers[0]["inbound_nodes"] = []
        for entry in layers:
            entry.setdefault("name", entry["config"]["name"])
        return layers, layers[0]["name"], layers[-1]["name"]
    raise ValueError(f"unsupported model class {kind!r} (expected Model, Functional or Sequential)")


def _layer_weights(root: h5py.Group, layer: str) -> dict[str, np.ndarray]:
    """The weights of ``layer`` by role (``kernel``, ``bias``, ``gamma``…)."""
    group = root.get(layer)
    if group is None:
        return {}
    weights = {}
    for raw in group.attrs.get("weight_names", []):
        path = _text(raw)
        dataset = group.get(path)
        if not isinstance(dataset, h5py.Dataset):
            raise InvalidInputError(f"Keras layer {layer!r}: weight {path!r} is listed but not stored")
        role = path.rsplit("/", 1)[-1].split(":", 1)[0]
        try:
            weights[role] = np.asarray(dataset[()], dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"Keras layer {layer!r}: weight {path!r} is not numeric ({exc})") from exc
    return weights


def read_keras_h5(src: str | Path) -> tuple[list[KerasLayer], str, dict[str, str]]:
    """Read a Keras full-model HDF5 file.

    Returns the layers in evaluation order (the input layer first, only those
    the output depends on), the output layer's name, and file metadata
    (``keras_version``, ``backend``). Raises :class:`InvalidInputError` for a
    file that is not a readable Keras full model.
    """
    src = Path(src)
    if not src.is_file():
        raise _fail(src, "no such file")
    try:
        h5 = h5py.File(src, "r")
    except OSError as exc:
        raise _fail(src, f"not a readable HDF5 file ({exc})") from exc
    with h5:
        raw = h5.attrs.get("model_config")
        if raw is None:
            raise _fail(src, "no 'model_config' attribute: not a Keras full model (a weights-only file?)")
        root = h5.get("model_weights")
        if not isinstance(root, h5py.Group):
            raise _fail(src, "no 'model_weights' group: not a Keras full model")
        try:
            entries, input_name, output_name = _layer_entries(json.loads(_text(raw)))
            by_name = {e["name"]: e for e in entries}
            if len(by_name) != len(entries):
                raise ValueError("duplicate layer names")
            layers = {
                name: KerasLayer(name, str(e["class_name"]), dict(e.get("config") or {}), _inbound(e), {})
                for name, e in by_name.items()
            }
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise _fail(src, f"malformed model_config ({type(exc).__name__}: {exc})") from exc
        ordered = _evaluation_order(src, layers, input_name, output_name)
        for layer in ordered:
            layer.weights = _layer_weights(root, layer.name)
        meta = {key: _text(h5.attrs[key]) for key in ("keras_version", "backend") if key in h5.attrs}
    return ordered, output_name, meta


def _evaluation_order(src: Path, layers: dict[str, KerasLayer], input_name: str, output_name: str) -> list[KerasLayer]:
    """Layers the output depends on, each after its inputs (depth-first from the output)."""
    order: list[KerasLayer] = []
    state: dict[str, str] = {}  # name → "visiting" | "done"
    stack: list[tuple[str, bool]] = [(output_name, False)]
    while stack:
        name, expanded = stack.pop()
        if name not in layers:
            raise _fail(src, f"model_config refers to an unknown layer {name!r}")
        if expanded:
            state[name] = "done"
            order.append(layers[name])
            continue
        if state.get(name) == "done":
            continue
        if state.get(name) == "visiting":
            raise _fail(src, f"model_config has a cycle through layer {name!r}")
        state[name] = "visiting"
        stack.append((name, True))
        stack.extend((parent, False) for parent in reversed(layers[name].inbound) if state.get(parent) != "done")
    sources = [layer.name for layer in order if not layer.inbound]
    if sources != [input_name] or order[0].class_name != "InputLayer":
        raise _fail(src, f"the output {output_name!r} must depend on the one input layer {input_name!r}, not {sources}")
    return order


# --------------------------------------------------------------------------- building the graph


def _graph_input(layer: KerasLayer) -> tuple[onnx.ValueInfoProto, int]:
    """The ONNX graph input for the Keras input layer, and its rank."""
    shape = layer.config.get("batch_input_shape") or layer.config.get("batch_shape")
    if not isinstance(shape, list) or len(shape) not in (2, 4):
        raise layer.error(f"input shape {shape!r} is not supported (expected [batch, H, W, C] or [batch, features])")
    names = ["batch", "height", "width", "channels"] if len(shape) == 4 else ["batch", "features"]
    dims: list[int | str] = [int(d) if d is not None else n for d, n in zip(shape, names, strict=True)]
    dims[0] = "batch"  # dynamic, whatever the file says
    return helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, dims), len(shape)


def build_onnx(layers: list[KerasLayer], output_layer: str, meta: dict[str, str] | None = None) -> onnx.ModelProto:
    """Build and check the ONNX model for ``layers`` as returned by :func:`read_keras_h5`."""
    g = GraphBuilder()
    graph_input, rank = _graph_input(layers[0])
    start = g.add("Transpose", [INPUT_NAME], "input/nchw", perm=TO_NCHW) if rank == 4 else INPUT_NAME
    values = {layers[0].name: Tensor(start, rank)}
    for layer in layers[1:]:
        converter = CONVERTERS.get(layer.class_name)
        if converter is None:
            raise layer.error(
                f"layer type {layer.class_name!r} is not supported (supported: {', '.join(sorted(CONVERTERS))})"
            )
        try:
            values[layer.name] = converter(g, layer, [values[name] for name in layer.inbound])
        except InvalidInputError:
            raise
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise layer.error(f"malformed config or weights ({type(exc).__name__}: {exc})") from exc
    result = values[output_layer]
    if result.rank == 4:
        g.add("Transpose", [result.name], "output/nhwc", output=OUTPUT_NAME, perm=TO_NHWC)
    else:
        g.add("Identity", [result.name], "output", output=OUTPUT_NAME)

    props = {"source_format": "keras-hdf5", **{f"keras_{k}": v for k, v in (meta or {}).items()}}
    return g.model(graph_input, "adlens.convert.keras", props)


def convert_keras_h5(src: str | Path, dst: str | Path) -> None:
    """Read a Keras full-model HDF5 with h5py and write an equivalent ONNX model to dst.

    The ONNX model has one float32 input ``input`` shaped like the Keras input
    (``[batch, H, W, C]``, batch dynamic) and one output ``output`` (for the
    adlens classifiers, the softmax probabilities ``[batch, classes]``).
    Raises :class:`~adlens.errors.InvalidInputError` for a file that is not a
    Keras full model or that uses a layer type this converter lacks.
    """
    layers, output_layer, meta = read_keras_h5(src)
    write_model(build_onnx(layers, output_layer, meta), dst)
