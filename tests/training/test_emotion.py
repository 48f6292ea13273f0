from __future__ import annotations

import builtins
import importlib
import json
import sys

import pytest

from adlens.errors import InvalidInputError, ModelUnavailableError

torch = pytest.importorskip("torch")

from adlens.training.emotion import (  # noqa: E402
    CHECKPOINT,
    EmotionTraining,
    augment,
    load_checkpoint,
    pick_device,
    train_emotion,
)
from training.emotion_faces import fer_folder  # noqa: E402

TINY = "8-16x1"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("fer")
    return fer_folder(root / "train", per_class=4, nested="train"), fer_folder(root / "val", per_class=2, seed=1)


def _config(folders, epochs=2):
    return EmotionTraining(data=folders[0], val=folders[1], epochs=epochs, arch=TINY, batch_size=8, warmup_epochs=1)


def test_augment_keeps_shape_range_and_varies(folders):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 48, 48)
    a, b = augment(x, generator), augment(x, generator)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, b)


def test_resume_continues_at_the_next_epoch_with_the_same_state(folders, tmp_path):
    config = _config(folders)
    logged: list[str] = []
    first = train_emotion(config, tmp_path / "a", "cpu", log=logged.append, stop_after=1)
    assert first["epoch"] == 1 and (tmp_path / "a" / CHECKPOINT).is_file()
    assert not list((tmp_path / "a").glob("*.partial"))
    saved = load_checkpoint(tmp_path / "a")
    assert saved is not None and saved["epoch"] == 1 and saved["best"]["epoch"] == 1
    resumed = train_emotion(config, tmp_path / "a", "cpu", log=logged.append)
    assert any("resuming" in line and "after epoch 1" in line for line in logged)
    assert [row["epoch"] for row in resumed["history"]] == [1, 2]
    straight = train_emotion(config, tmp_path / "b", "cpu", log=logged.append)
    for key, value in straight["net"].items():
        torch.testing.assert_close(resumed["net"][key], value, rtol=0, atol=1e-6, msg=key)
    assert resumed["history"][1]["loss"] == pytest.approx(straight["history"][1]["loss"], abs=1e-5)
    # a finished run does nothing more
    again = train_emotion(config, tmp_path / "a", "cpu", log=logged.append)
    assert again["epoch"] == 2 and len(again["history"]) == 2


def test_a_work_folder_of_another_run_is_refused(folders, tmp_path):
    train_emotion(_config(folders, epochs=1), tmp_path, "cpu", log=lambda line: None)
    with pytest.raises(InvalidInputError, match="other settings"):
        train_emotion(_config(folders, epochs=3), tmp_path, "cpu", log=lambda line: None)


@pytest.mark.parametrize(("change", "message"), [
    ({"arch": "bad"}, "architecture"), ({"epochs": 0}, "epochs"), ({"lr": 0.0}, "lr"),
])
def test_bad_settings_are_refused(folders, tmp_path, change, message):
    config = EmotionTraining(**{**_config(folders).__dict__, **change})
    with pytest.raises(InvalidInputError, match=message):
        train_emotion(config, tmp_path, "cpu")


def test_devices():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InvalidInputError, match="auto, cpu or cuda"):
        pick_device("tpu")


def test_without_torch_the_error_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    monkeypatch.delitem(sys.modules, "adlens.training.emotion")
    with pytest.raises(ModelUnavailableError, match=r"adlens\[train\]"):
        importlib.import_module("adlens.training.emotion")


def test_export_writes_model_report_and_card(folders, tmp_path):
    from adlens.training.emotion_report import export_emotion

    config = _config(folders, epochs=1)
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


def test_ensemble_accuracies_average_the_net_with_each_subset():
    import numpy as np

    from adlens.training.emotion_ensemble import ensemble_accuracies

    labels = np.array([0, 1, 2])
    net = np.array([[0.6, 0.4, 0, 0, 0, 0, 0], [0.6, 0.4, 0, 0, 0, 0, 0], [0, 0, 1.0, 0, 0, 0, 0]])
    other = np.array([[1.0, 0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0, 0], [0, 0, 1.0, 0, 0, 0, 0]])
    result = ensemble_accuracies(net, {"x": other}, labels)
    assert result == {"net": pytest.approx(2 / 3), "net + x": 1.0, "x alone": 1.0}
