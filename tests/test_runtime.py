from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import ModelUnavailableError
from adlens.registry import get_spec
from adlens.runtime import OrtSession, TFLiteSession, converted_path, ensure_onnx, open_session
from adlens.settings import Settings
from helpers import MODELS, need


@pytest.fixture()
def private_settings(tmp_path):
    return Settings(models=str(need(MODELS)), cache_dir=tmp_path / "cache", offline=True)


def test_keras_conversion_is_cached_by_source_sha(private_settings):
    spec = get_spec("gender-mini-xception")
    target = converted_path(spec, private_settings)
    assert spec.sha256[:16] in target.name and not target.exists()
    first = ensure_onnx(spec, private_settings)
    assert first == target and target.is_file()
    stamp = target.stat().st_mtime_ns
    assert ensure_onnx(spec, private_settings) == target and target.stat().st_mtime_ns == stamp
    assert not list(target.parent.glob("*.part")), "no partial file left behind"


def test_sessions_run_batches(private_settings):
    emotion = open_session("emotion-mini-xception", private_settings)
    assert isinstance(emotion, OrtSession)
    assert emotion.run(np.zeros((3, 64, 64, 1), np.float32)).shape == (3, 7)
    age = open_session("age-mobilenet", private_settings)
    assert isinstance(age, TFLiteSession)
    assert age.run(np.zeros((2, 200, 200, 3), np.float32)).shape == (2, 1)
    assert age.run(np.zeros((1, 200, 200, 3), np.float32)).shape == (1, 1)


def test_missing_model_names_the_file(tmp_path):
    settings = Settings(models=str(tmp_path), cache_dir=tmp_path / "cache", offline=True)
    with pytest.raises(ModelUnavailableError, match="fer2013_mini_XCEPTION.102-0.66.hdf5"):
        open_session("emotion-mini-xception", settings)
