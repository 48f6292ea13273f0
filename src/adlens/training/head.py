"""The attribute head: one logistic regression per attribute on standardised features, exported to ONNX.

Each attribute is fitted only on the rows where its label is known (a NaN label is
"unsure"). The export folds the standardisation into the weights, so the ONNX graph is
``Sigmoid(features @ W + b)``: one MatMul, one Add, one Sigmoid, about 12 kB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ONNX_OPSET = 17
ONNX_IR_VERSION = 9  # what ONNX Runtime 1.16+ reads
INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"


class AttributeHead:
    """Standardised features → P(attribute) per column, following the scikit-learn contract.

    Args:
        C: inverse regularisation strength, one for all attributes or one per attribute.
        class_weight: passed to :class:`~sklearn.linear_model.LogisticRegression`
            (``"balanced"`` by default: positives are rare).
        max_iter: iterations of the lbfgs solver.
    """

    def __init__(
        self, C: float | Sequence[float] = 0.1, class_weight: str | None = "balanced", max_iter: int = 5000
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def fit(self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None = None) -> AttributeHead:
        """Fit on features ``X`` ``(n, d)`` and labels ``Y`` ``(n, k)`` of 0, 1 or NaN (left out)."""
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
            raise ValueError(f"X must be (n, d) and Y (n, k) with the same n; got {X.shape} and {Y.shape}")
        values = np.unique(Y[~np.isnan(Y)])
        if not np.isin(values, (0.0, 1.0)).all():
            raise ValueError(f"labels must be 0, 1 or NaN; got {values.tolist()}")
        Cs = np.broadcast_to(np.asarray(self.C, dtype=np.float64), (Y.shape[1],))
        weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.scaler_ = StandardScaler().fit(X)
        scaled = self.scaler_.transform(X)
        self.estimators_: list[LogisticRegression] = []
        for column, C in enumerate(Cs):
            known = ~np.isnan(Y[:, column])
            if len(np.unique(Y[known, column])) < 2:
                raise ValueError(f"label column {column} needs both positives and negatives")
            model = LogisticRegression(C=float(C), class_weight=self.class_weight, max_iter=self.max_iter)
            self.estimators_.append(model.fit(scaled[known], Y[known, column].astype(int), weight[known]))
        self.n_features_in_ = X.shape[1]
        return self

    def calibrate(self, slopes: Sequence[float], intercepts: Sequence[float]) -> AttributeHead:
        """Platt-scale the fitted head: P = sigmoid(slope · decision value + intercept), one pair per column
        (see :mod:`adlens.training.calibration`)."""
        self.calibration_ = (np.asarray(slopes, dtype=np.float64), np.asarray(intercepts, dtype=np.float64))
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Decision values ``(n, k)``: the logits before calibration."""
        scaled = self.scaler_.transform(np.asarray(X, dtype=np.float64))
        return np.column_stack([model.decision_function(scaled) for model in self.estimators_])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(attribute) ``(n, k)`` float64: scikit-learn's own ``predict_proba`` of each column, or once
        calibrated, the sigmoid of the calibrated decision values."""
        if calibration := getattr(self, "calibration_", None):
            slopes, intercepts = calibration
            return 1.0 / (1.0 + np.exp(-(self.decision_function(X) * slopes + intercepts)))
        scaled = self.scaler_.transform(np.asarray(X, dtype=np.float64))
        return np.column_stack([model.predict_proba(scaled)[:, 1] for model in self.estimators_])

    def folded_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``W`` ``(d, k)`` and ``b`` ``(k,)`` with the scaler (and the calibration) folded in: P = sigmoid(X @ W + b)."""
        coef = np.column_stack([model.coef_[0] for model in self.estimators_])
        intercept = np.array([model.intercept_[0] for model in self.estimators_])
        scale = self.scaler_.scale_
        weights, bias = coef / scale[:, None], intercept - (self.scaler_.mean_ / scale) @ coef
        if calibration := getattr(self, "calibration_", None):
            slopes, intercepts = calibration
            weights, bias = weights * slopes, bias * slopes + intercepts
        return weights, bias

    def to_onnx(self, metadata: Mapping[str, str] | None = None, doc: str = "") -> onnx.ModelProto:
        """The head as an ONNX model: ``features`` float32 ``(N, d)`` → ``probabilities`` float32 ``(N, k)``."""
        weights, bias = self.folded_weights()
        k = weights.shape[1]
        graph = helper.make_graph(
            [
                helper.make_node("MatMul", [INPUT_NAME, "W"], ["logits_raw"]),
                helper.make_node("Add", ["logits_raw", "b"], ["logits"]),
                helper.make_node("Sigmoid", ["logits"], [OUTPUT_NAME]),
            ],
            "attribute_head",
            [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", self.n_features_in_])],
            [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", k])],
            initializer=[
                numpy_helper.from_array(weights.astype(np.float32), "W"),
                numpy_helper.from_array(bias.astype(np.float32), "b"),
            ],
            doc_string=doc,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
            ir_version=ONNX_IR_VERSION,
            producer_name="adlens",
            doc_string=doc,
        )
        helper.set_model_props(model, dict(metadata or {}))
        onnx.checker.check_model(model, full_check=True)
        return model
