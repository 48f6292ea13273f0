from __future__ import annotations

import builtins
import importlib
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
from training.emotion_faces import tiny_training  # noqa: E402


def test_augment_keeps_shape_range_and_varies():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 48, 48)
    a, b = augment(x, generator), augment(x, generator)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, b)


def test_resume_continues_at_the_next_epoch_with_the_same_state(folders, tmp_path):
    config = tiny_training(folders)
    logged: list[str] = []
    first = train_emotion(config, tmp_path / "a", "cpu", log=logged.append, stop_after=1)
    assert first["epoch"] == 1 and (tmp_path / "a" / CHECKPOINT).is_file()
    assert not list((tmp_path / "a").glob("*.tmp"))  # atomic_path's temporary files are gone
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
    train_emotion(tiny_training(folders, epochs=1), tmp_path, "cpu", log=lambda line: None)
    with pytest.raises(InvalidInputError, match="other settings"):
        train_emotion(tiny_training(folders, epochs=3), tmp_path, "cpu", log=lambda line: None)


@pytest.mark.parametrize(("change", "message"), [
    ({"arch": "bad"}, "architecture"), ({"epochs": 0}, "epochs"), ({"lr": 0.0}, "lr"),
])
def test_bad_settings_are_refused(folders, tmp_path, change, message):
    config = EmotionTraining(**{**tiny_training(folders).__dict__, **change})
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

