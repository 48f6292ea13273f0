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
