from __future__ import annotations

import numpy as np
import pytest

from adlens.training.emotion_ensemble import ensemble_accuracies


def test_ensemble_accuracies_average_the_net_with_each_subset():
    labels = np.array([0, 1, 2])
    net = np.array([[0.6, 0.4, 0, 0, 0, 0, 0], [0.6, 0.4, 0, 0, 0, 0, 0], [0, 0, 1.0, 0, 0, 0, 0]])
    other = np.array([[1.0, 0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0, 0], [0, 0, 1.0, 0, 0, 0, 0]])
    result = ensemble_accuracies(net, {"x": other}, labels)
    assert result == {"net": pytest.approx(2 / 3), "net + x": 1.0, "x alone": 1.0}


def test_the_members_are_also_averaged_without_the_net():
    labels = np.array([0, 1])
    net = np.eye(7)[[1, 0]]
    a, b = np.eye(7)[[0, 0]] * 0.6, np.eye(7)[[0, 1]]
    result = ensemble_accuracies(net, {"a": a, "b": b}, labels)
    assert result["a + b (no net)"] == 1.0 and result["net"] == 0.0 and set(result) == {
        "net", "net + a", "net + b", "net + a + b", "a alone", "b alone", "a + b (no net)"}
