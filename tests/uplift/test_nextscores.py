"""Scoring a next-purchase model against its baselines."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.uplift.nextscores import evaluate
from purchases import purchases


def test_beats_both_baselines_held_out(next_fit):
    model, evaluation = next_fit
    assert evaluation.rows == pytest.approx(2000, abs=4) and evaluation.unknown == 0
    base = evaluation.baselines
    assert evaluation.model.log_loss < base["transition"].log_loss < base["shares"].log_loss
    assert evaluation.model.accuracy >= base["stay"].accuracy - 0.01
    assert evaluation.model.top2_accuracy > base["shares"].top2_accuracy
    assert base["stay"].log_loss is None
    assert model.evaluation_ == evaluation.to_dict()
    assert set(model.evaluation_) == {"rows", "unknown_next", "log_loss", "accuracy", "top2_accuracy", "baselines"}


def test_evaluate_counts_next_brands_the_model_never_saw(next_fit):
    model, _ = next_fit
    frame, _ = purchases(100, seed=5)
    frame.loc[:9, "next_manufacturer"] = "Fairphone"
    result = evaluate(model, frame)
    assert result.rows == 100 and result.unknown == 10
    assert np.isfinite(result.model.log_loss) and result.model.accuracy <= 0.9
