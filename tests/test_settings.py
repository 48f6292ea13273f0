"""Tests for adlens.settings: ADLENS_* environment, defaults, and an import that changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adlens.settings import Settings, get_settings

# --------------------------------------------------------------------------- helpers


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No ADLENS_* variable from the caller's shell; the cached settings re-read."""
    for key in list(os.environ):
        if key.startswith("ADLENS_"):
            monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def clean_subprocess_env(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ADLENS_", "XDG_")) and key not in ("PYTHONSTARTUP",)
    }
    env["HOME"] = str(home)
    return env


# --------------------------------------------------------------------------- defaults


DEFAULTS = [
    ("max_pixels", 50_000_000),
    ("detector", "yunet"),
    ("models", ""),
    ("model_dirs", []),
    ("offline", False),
    ("download_timeout", 60.0),
    ("detector_score_threshold", 0.7),
    ("detector_max_side", 960),
    ("emotion_model", "emotion-net"),
    ("age_model", "age-mobilenet"),
    ("gender_model", "gender-mobilenet"),
    ("ort_threads", 0),
    ("ort_inter_threads", 1),
    ("ort_providers", "CPUExecutionProvider"),
    ("ort_provider_list", ["CPUExecutionProvider"]),
    ("ort_graph_optimization", "all"),
    ("ort_execution_mode", "sequential"),
]


@pytest.mark.parametrize(("attribute", "expected"), DEFAULTS)
def test_defaults(attribute: str, expected: Any, clean_env: pytest.MonkeyPatch) -> None:
    assert getattr(Settings(), attribute) == expected


def test_default_cache_dir_under_home(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.delenv("XDG_CACHE_HOME", raising=False)
    clean_env.setenv("HOME", str(tmp_path))
    settings = Settings()
    assert settings.cache_dir == tmp_path / ".cache" / "adlens"
    assert settings.model_cache_dir == tmp_path / ".cache" / "adlens" / "models"
    assert settings.converted_dir == tmp_path / ".cache" / "adlens" / "converted"
    assert list(tmp_path.iterdir()) == []  # reading settings creates nothing


def test_default_cache_dir_follows_xdg(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings().cache_dir == tmp_path / "xdg" / "adlens"


# --------------------------------------------------------------------------- environment

ENV_CASES = [
    # (variable, value, attribute, expected value, expected error)
    ("ADLENS_MAX_PIXELS", "1234", "max_pixels", 1234, None),
    ("ADLENS_MAX_PIXELS", "0", "max_pixels", None, ValidationError),
    ("ADLENS_MAX_PIXELS", "-5", "max_pixels", None, ValidationError),
    ("ADLENS_MAX_PIXELS", "lots", "max_pixels", None, ValidationError),
    ("ADLENS_DETECTOR", "dlib-hog", "detector", "dlib-hog", None),
    ("ADLENS_OFFLINE", "1", "offline", True, None),
    ("ADLENS_OFFLINE", "true", "offline", True, None),
    ("ADLENS_OFFLINE", "0", "offline", False, None),
    ("ADLENS_OFFLINE", "maybe", "offline", None, ValidationError),
    ("ADLENS_CACHE_DIR", "/tmp/adlens-test-cache", "cache_dir", Path("/tmp/adlens-test-cache"), None),
    ("ADLENS_DOWNLOAD_TIMEOUT", "2.5", "download_timeout", 2.5, None),
    ("ADLENS_DOWNLOAD_TIMEOUT", "0", "download_timeout", None, ValidationError),
    ("ADLENS_DETECTOR_SCORE_THRESHOLD", "1.5", "detector_score_threshold", None, ValidationError),
    ("ADLENS_DETECTOR_MAX_SIDE", "32", "detector_max_side", None, ValidationError),
    ("ADLENS_MODELS", "  /a/b  ", "models", "/a/b", None),
    ("ADLENS_ORT_THREADS", "4", "ort_threads", 4, None),
    ("ADLENS_ORT_THREADS", "-1", "ort_threads", None, ValidationError),
    ("ADLENS_ORT_INTER_THREADS", "2", "ort_inter_threads", 2, None),
    ("ADLENS_ORT_PROVIDERS", "CUDAExecutionProvider, ,CPUExecutionProvider", "ort_provider_list",
     ["CUDAExecutionProvider", "CPUExecutionProvider"], None),
    ("ADLENS_ORT_GRAPH_OPTIMIZATION", "extended", "ort_graph_optimization", "extended", None),
    ("ADLENS_ORT_GRAPH_OPTIMIZATION", "max", "ort_graph_optimization", None, ValidationError),
    ("ADLENS_ORT_EXECUTION_MODE", "parallel", "ort_execution_mode", "parallel", None),
    ("ADLENS_ORT_EXECUTION_MODE", "async", "ort_execution_mode", None, ValidationError),
    ("ADLENS_GALLERY_SNAPSHOTS", "/dev/shm/g", "gallery_snapshots", Path("/dev/shm/g"), None),
    ("ADLENS_GALLERY_SNAPSHOTS", "  ", "gallery_snapshots", None, None),  # empty: each process its own index
    ("ADLENS_NOT_A_SETTING", "1", "max_pixels", 50_000_000, None),  # unknown variables are ignored
    ("MAX_PIXELS", "1234", "max_pixels", 50_000_000, None),  # the prefix is required
]


@pytest.mark.parametrize(("variable", "value", "attribute", "expected", "error"), ENV_CASES)
def test_env(
    variable: str,
    value: str,
    attribute: str,
    expected: Any,
    error: type[Exception] | None,
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv(variable, value)
    if error is not None:
        with pytest.raises(error):
            Settings()
        return
    assert getattr(Settings(), attribute) == expected


MODEL_DIRS_CASES = [
    # (ADLENS_MODELS parts joined with os.pathsep, expected model_dirs)
    (["/one", "/two"], [Path("/one"), Path("/two")]),
    (["/two", "/one"], [Path("/two"), Path("/one")]),
    (["/one"], [Path("/one")]),
    (["", "/one", "", "/two", ""], [Path("/one"), Path("/two")]),
    ([""], []),
]


@pytest.mark.parametrize(("parts", "expected"), MODEL_DIRS_CASES)
def test_adlens_models_to_model_dirs(parts: list[str], expected: list[Path], clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ADLENS_MODELS", os.pathsep.join(parts))
    assert Settings().model_dirs == expected


def test_adlens_models_expands_user(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("HOME", str(tmp_path))
    clean_env.setenv("ADLENS_MODELS", f"~/m{os.pathsep}/abs")
    assert Settings().model_dirs == [tmp_path / "m", Path("/abs")]


def test_explicit_arguments_beat_the_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("ADLENS_OFFLINE", "1")
    clean_env.setenv("ADLENS_CACHE_DIR", "/somewhere/else")
    settings = Settings(offline=False, cache_dir=tmp_path)
    assert settings.offline is False
    assert settings.cache_dir == tmp_path


def test_get_settings_is_cached_until_cleared(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ADLENS_MAX_PIXELS", "111")
    first = get_settings()
    assert first.max_pixels == 111
    clean_env.setenv("ADLENS_MAX_PIXELS", "222")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().max_pixels == 222


# --------------------------------------------------------------------------- import side effects

_PROBE = """
import json, os, sys
before = dict(os.environ)
for module in sys.argv[1:]:
    __import__(module)
after = dict(os.environ)
print(json.dumps(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))))
"""


def import_probe(tmp_path: Path, *modules: str) -> tuple[list[str], Path, Path]:
    """Import ``modules`` in a fresh interpreter with HOME and cwd in empty tmp folders.

    Returns the names of the environment variables that changed, HOME and cwd.
    """
    home = tmp_path / "home"
    cwd = tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        cwd=cwd,
        env=clean_subprocess_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), home, cwd


def test_import_adlens_changes_nothing(tmp_path: Path) -> None:
    changed, home, cwd = import_probe(tmp_path, "adlens", "adlens.settings", "adlens.registry")
    assert changed == []
    assert list(home.iterdir()) == []
    assert list(cwd.iterdir()) == []


def test_import_adlens_cli_creates_no_folder(tmp_path: Path) -> None:
    changed, home, cwd = import_probe(tmp_path, "adlens", "adlens.cli")
    assert list(home.iterdir()) == []
    assert list(cwd.iterdir()) == []
    # opencv-python's own bootstrap (cv2/__init__.py) prepends to LD_LIBRARY_PATH; nothing else may change.
    assert set(changed) <= {"LD_LIBRARY_PATH"}
