"""Calibration of the attribute head: Platt scaling on out-of-fold decision values, and how well it holds.

The head's logistic regressions are trained with balanced classes, so their raw 0.5 suits
balanced data, not the data's real prevalence. Platt scaling fits ``P = sigmoid(a·z + c)`` on
the out-of-fold decision values ``z`` of the real faces; for a linear head that is a rescaling
of its weights and bias, so the ONNX graph stays one MatMul, Add and Sigmoid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

_EPSILON = 1e-12


def logit(probability: np.ndarray) -> np.ndarray:
    """The decision value of a probability (clipped away from 0 and 1)."""
    p = np.clip(np.asarray(probability, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(p / (1 - p))


def platt(probability: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Slope ``a`` and intercept ``c`` of ``sigmoid(a·logit(p) + c)`` fitted to ``truth`` (NaN: left out), unweighted."""
    known = ~np.isnan(truth)
    model = LogisticRegression(C=1e6, max_iter=1000)
    model.fit(logit(probability[known]).reshape(-1, 1), truth[known].astype(int))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def apply_platt(
    probability: np.ndarray, slope: float | np.ndarray, intercept: float | np.ndarray
) -> np.ndarray:
    """Calibrated probabilities (one slope and intercept, or one per column)."""
    return 1.0 / (1.0 + np.exp(-(slope * logit(probability) + intercept)))


def reliability(truth: np.ndarray, probability: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Brier score, expected calibration error and the reliability table (equal-width bins with faces in them)."""
    known = ~np.isnan(truth)
    truth, probability = truth[known], probability[known]
    edges = np.minimum((probability * bins).astype(int), bins - 1)
    table = []
    error = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            mean_p, observed = float(probability[inside].mean()), float(truth[inside].mean())
            error += inside.sum() / len(truth) * abs(mean_p - observed)
            table.append({"bin": [b / bins, (b + 1) / bins], "faces": int(inside.sum()),
                          "mean_probability": round(mean_p, 4), "observed": round(observed, 4)})
    return {"brier": round(float(np.mean((probability - truth) ** 2)), 4), "ece": round(float(error), 4),
            "bins": table}


def false_alarm_threshold(
    probability: np.ndarray, negatives: np.ndarray, *, rate: float, floor: float = 0.5, step: float = 0.05
) -> float:
    """The lowest threshold on a ``step`` grid, not below ``floor``, at which at most ``rate`` of the ``negatives`` faces alarm."""
    threshold = floor
    while threshold < 1.0 and float((probability[negatives] >= threshold).mean()) > rate:
        threshold = round(threshold + step, 4)
    return min(threshold, 1.0)
