from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from adlens.training.emotion import train_emotion  # noqa: E402
from training.emotion_faces import tiny_training  # noqa: E402


def test_export_writes_model_report_and_card(folders, tmp_path):
    from adlens.training.emotion_report import export_emotion

    config = tiny_training(folders, epochs=1)
    state = train_emotion(config, tmp_path / "work", "cpu", log=lambda line: None)
    paths = export_emotion(state, config, tmp_path / "work", tmp_path / "out")
    report = json.loads(paths["json"].read_text())
    assert report["validation"]["n"] == 14 and report["best_epoch"] == 1
    assert set(report["validation"]["flip"]["per_class"]) == set(report["labels"])
    assert report["onnx"]["bytes"] == paths["onnx"].stat().st_size < 5_000_000
    card = paths["card"].read_text()
    assert "selected on" in card.lower() or "selection caveat" in card.lower()
    assert "research use" in card and report["onnx"]["sha256"] in card
    assert "net" in report["ensemble"]["accuracy"]
