from __future__ import annotations

import json

import pytest

from helpers import run_cli
from training.emotion_faces import fer_folder


def test_train_emotion_names_a_bad_data_folder(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "fer" / "happy").mkdir(parents=True)
    result = run_cli("train", "emotion", "--data", str(tmp_path / "fer"), "--val", str(tmp_path / "fer"),
                     "--work", str(tmp_path / "work"))
    assert result.exit_code != 0
    assert "missing: angry" in result.output


def test_train_emotion_stops_resumes_and_exports(tmp_path):
    pytest.importorskip("torch")
    data, val = fer_folder(tmp_path / "train", per_class=3), fer_folder(tmp_path / "val", per_class=1, seed=1)
    args = ["train", "emotion", "--data", str(data), "--val", str(val), "--work", str(tmp_path / "work"),
            "--epochs", "2", "--arch", "8-16x1", "--batch-size", "8", "--device", "cpu", "--out", str(tmp_path / "out")]
    first = run_cli(*args, "--stop-after", "1")
    assert first.exit_code == 0, first.output
    assert "stopped after epoch 1 of 2" in first.output and not (tmp_path / "out").exists()
    best = run_cli(*args, "--export-best")
    assert best.exit_code == 0, best.output
    assert json.loads((tmp_path / "out" / "emotion_net.json").read_text())["epochs_done"] == 1
    done = run_cli(*args)
    assert done.exit_code == 0, done.output
    assert "resuming" in done.output and "accuracy" in done.output
    report = json.loads((tmp_path / "out" / "emotion_net.json").read_text())
    assert report["epochs_done"] == 2 and len(report["history"]) == 2
