"""What every adlens converter shares: the ONNX graph builder and the checked model it ends in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from adlens.errors import InvalidInputError

OPSET = 17
"""ONNX opset of the graphs written (ReduceMean/ReduceMax still take ``axes`` as an attribute)."""

IR_VERSION = 8
"""ONNX IR version written: the lowest that carries opset 17, so older ONNX Runtimes load it."""

INPUT_NAME = "input"
OUTPUT_NAME = "output"

TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]


class GraphBuilder:
    """Collects ONNX nodes and initializers under unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = {INPUT_NAME, OUTPUT_NAME}

    def unique(self, hint: str) -> str:
        """``hint``, or ``hint_2``, ``hint_3``… if it is taken."""
        name, count = hint, 1
        while name in self._names:
            count += 1
            name = f"{hint}_{count}"
        self._names.add(name)
        return name

    def constant(self, hint: str, value: np.ndarray) -> str:
        """Store ``value`` as an initializer and return its name."""
        name = self.unique(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def add(self, op: str, inputs: list[str], hint: str, output: str | None = None, **attrs: Any) -> str:
        """Append an ``op`` node reading ``inputs``; return the name of its (single) output."""
        out = output if output is not None else self.unique(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.unique(f"{hint}/{op}"), **attrs))
        return out

    def model(self, graph_input: onnx.ValueInfoProto, producer: str, props: dict[str, str]) -> onnx.ModelProto:
        """The checked model of the nodes so far, from ``graph_input`` to :data:`OUTPUT_NAME` (its shape inferred).

        Raises:
            InvalidInputError: the graph does not check (weights that do not fit the layers).
        """
        graph = helper.make_graph(self.nodes, producer.rsplit(".", 1)[-1] + "_model", [graph_input],
                                  [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, None)],
                                  initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=producer)
        model.ir_version = IR_VERSION
        helper.set_model_props(model, props)
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
            model.graph.output[0].CopyFrom(inferred.graph.output[0])
            onnx.checker.check_model(model, full_check=True)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
            raise InvalidInputError(f"the converted graph is invalid (weights that do not fit the layers?): {exc}") from exc
        return model


def write_model(model: onnx.ModelProto, dst: str | Path) -> None:
    """Write ``model`` to ``dst``, creating its folder."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(model.SerializeToString())
