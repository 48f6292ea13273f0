from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import ModelUnavailableError
from adlens.modelspecs import get_spec
from adlens.runtime import (
    OrtSession,
    TFLiteSession,
    converted_path,
    ensure_onnx,
    open_session,
    session_options,
    session_providers,
)
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


# --------------------------------------------------------------------------- options from the settings


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), {"intra_op_num_threads": 0, "inter_op_num_threads": 1,
                      "graph_optimization_level": "ORT_ENABLE_ALL", "execution_mode": "ORT_SEQUENTIAL"}),
        (Settings(ort_threads=3, ort_inter_threads=2, ort_graph_optimization="basic", ort_execution_mode="parallel"),
         {"intra_op_num_threads": 3, "inter_op_num_threads": 2,
          "graph_optimization_level": "ORT_ENABLE_BASIC", "execution_mode": "ORT_PARALLEL"}),
        (Settings(ort_inter_threads=0, ort_graph_optimization="disable"),
         {"inter_op_num_threads": 0, "graph_optimization_level": "ORT_DISABLE_ALL"}),
    ],
    ids=["defaults", "all-set", "ort-defaults"],
)
def test_session_options_come_from_settings(settings, expected):
    options = session_options(settings)
    for name, value in expected.items():
        actual = getattr(options, name)
        assert (actual.name if hasattr(actual, "name") else actual) == value, name
    assert options.log_severity_level == 3


@pytest.mark.parametrize(
    ("providers", "expected"),
    [
        ("CPUExecutionProvider", ["CPUExecutionProvider"]),
        ("NoSuchExecutionProvider, CPUExecutionProvider", ["CPUExecutionProvider"]),
        ("NoSuchExecutionProvider", ["CPUExecutionProvider"]),
        ("", ["CPUExecutionProvider"]),
        ("CPUExecutionProvider,CPUExecutionProvider", ["CPUExecutionProvider"]),
    ],
)
def test_session_providers_skip_what_onnxruntime_lacks(providers, expected):
    assert session_providers(Settings(ort_providers=providers)) == expected


def test_sessions_run_on_the_configured_providers(private_settings):
    settings = private_settings.model_copy(update={"ort_providers": "NoSuchExecutionProvider,CPUExecutionProvider",
                                                   "ort_threads": 1})
    session = open_session("emotion-mini-xception", settings)
    assert isinstance(session, OrtSession)
    assert session.providers == ["CPUExecutionProvider"]
    assert session.run(np.zeros((1, 64, 64, 1), np.float32)).shape == (1, 7)
