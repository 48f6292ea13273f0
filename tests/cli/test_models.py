"""Tests for ``adlens models list | verify | path | pull`` through Typer's CliRunner."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adlens import modelspecs
from adlens.cli import app
from adlens.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_MODELS = (REPO_ROOT / ".." / "shared" / "models").resolve()

needs_shared = pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason=f"shared models folder {SHARED_MODELS} missing")

# Shipped inside a package (dlib's models, adlens's own weights): always present, never downloaded.
PACKAGED = [spec for spec in modelspecs.MODELS if spec.format == "dlib" or spec.url == modelspecs.BUNDLED]
NON_DLIB = [spec for spec in modelspecs.MODELS if spec not in PACKAGED]

# --------------------------------------------------------------------------- helpers


class Env:
    """Sets ``ADLENS_*`` variables for one test and re-reads the cached settings."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.monkeypatch = monkeypatch
        self.cache = tmp_path / "cache"
        self.empty = tmp_path / "empty_models"
        self.empty.mkdir()

    def set(self, *, models: list[Path] | None = None, offline: bool = False) -> None:
        self.monkeypatch.setenv("ADLENS_MODELS", os.pathsep.join(str(p) for p in models or []))
        self.monkeypatch.setenv("ADLENS_CACHE_DIR", str(self.cache))
        self.monkeypatch.setenv("ADLENS_OFFLINE", "1" if offline else "0")
        get_settings.cache_clear()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    for key in list(os.environ):
        if key.startswith("ADLENS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", "400")  # Rich reads it on every print: keep table cells on one line
    get_settings.cache_clear()
    yield Env(monkeypatch, tmp_path)
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def row_of(output: str, name: str) -> str:
    """The listed row (tab-separated) or verify line of model ``name``."""
    for line in output.splitlines():
        cells = line.split("\t")
        words = line.split()
        if (cells and cells[0] == name) or (len(words) > 1 and words[1] == name):
            return line
    raise AssertionError(f"no line for {name!r} in:\n{output}")


# --------------------------------------------------------------------------- list


@needs_shared
def test_list_shows_every_model_present(env: Env) -> None:
    env.set(models=[SHARED_MODELS], offline=True)
    code, output = invoke("models", "list")
    assert code == 0, output
    for spec in modelspecs.MODELS:
        row = row_of(output, spec.name)
        assert "present" in row, row
        assert spec.filename in row
    assert str(SHARED_MODELS) in row_of(output, "yunet-s")
    assert not env.cache.exists()


def test_list_shows_missing_and_corrupt(env: Env) -> None:
    if importlib.util.find_spec("face_recognition_models") is None:  # never imported: it needs pkg_resources
        pytest.skip("face_recognition_models is not installed")
    (env.empty / "yunet_n_640_640.onnx").write_bytes(b"garbage")
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "list")
    assert code == 0, output
    assert "corrupt" in row_of(output, "yunet-n")
    for spec in NON_DLIB:
        if spec.name != "yunet-n":
            assert "missing" in row_of(output, spec.name)
    for spec in PACKAGED:
        assert "present" in row_of(output, spec.name)


def test_list_piped_cuts_nothing(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")  # a pipe: Rich would squeeze a table into 80 columns
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "list")
    assert code == 0 and "…" not in output
    lines = output.splitlines()
    assert lines[0].split("\t") == ["name", "task", "file", "state", "licence", "use", "location"]
    assert len(lines) == 1 + len(modelspecs.MODELS)
    for line, spec in zip(lines[1:], modelspecs.MODELS, strict=True):
        name, task, filename, state, licence, use, _ = line.split("\t")
        assert (name, task, filename, licence) == (spec.name, spec.task, spec.filename, spec.licence)
        assert state in ("present", "missing", "corrupt")
        assert use == ("non-commercial" if spec.non_commercial else "any")
    uses = {line.split("\t")[0]: line.split("\t")[5] for line in lines[1:]}
    assert uses["age-mobilenet"] == uses["gender-mobilenet"] == "non-commercial"  # trained on UTKFace
    assert uses["age-cydral"] == uses["gender-cydral"] == "any"  # CC0


# --------------------------------------------------------------------------- verify


@needs_shared
def test_verify_all_present(env: Env) -> None:
    env.set(models=[SHARED_MODELS], offline=True)
    code, output = invoke("models", "verify")
    assert code == 0, output
    for spec in modelspecs.MODELS:
        assert row_of(output, spec.name).lstrip().startswith("present")


def test_verify_missing_exits_1(env: Env) -> None:
    if importlib.util.find_spec("face_recognition_models") is None:  # never imported: it needs pkg_resources
        pytest.skip("face_recognition_models is not installed")
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "verify")
    assert code == 1, output
    for spec in NON_DLIB:
        assert row_of(output, spec.name).lstrip().startswith("missing")
    for spec in PACKAGED:
        assert row_of(output, spec.name).lstrip().startswith("present")
    assert not env.cache.exists()


VERIFY_CASES = [
    # (arguments after "models verify", exit code)
    (["dlib-landmarks-5"], 0),
    (["dlib-landmarks-5", "dlib-face-embedding"], 0),
    (["yunet-s"], 1),
    (["dlib-landmarks-5", "yunet-s"], 1),
    (["nope"], 2),
]


@pytest.mark.parametrize(("names", "expected"), VERIFY_CASES)
def test_verify_selected_names(names: list[str], expected: int, env: Env) -> None:
    if importlib.util.find_spec("face_recognition_models") is None:  # never imported: it needs pkg_resources
        pytest.skip("face_recognition_models is not installed")
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "verify", *names)
    assert code == expected, output
    if expected == 2:
        assert "known models" in output


# --------------------------------------------------------------------------- path


@needs_shared
def test_path_prints_the_file(env: Env) -> None:
    env.set(models=[SHARED_MODELS], offline=True)
    code, output = invoke("models", "path", "yunet-s")
    assert code == 0, output
    assert Path(output.strip()) == SHARED_MODELS / "yunet_s_640_640.onnx"


def test_path_unknown_name_exits_2(env: Env) -> None:
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "path", "nope")
    assert code == 2
    assert "unknown model 'nope'" in output
    assert "known models" in output
    for spec in modelspecs.MODELS:
        assert spec.name in output


def test_path_missing_offline_exits_1(env: Env) -> None:
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "path", "yunet-s")
    assert code == 1
    assert modelspecs.get_spec("yunet-s").url in output
    assert not env.cache.exists()


def test_path_name_with_markup_exits_2(env: Env) -> None:
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "path", "[/x]")
    assert code == 2
    assert "[/x]" in output


# --------------------------------------------------------------------------- pull


def test_pull_offline_empty_cache_exits_1(env: Env) -> None:
    env.set(models=[env.empty], offline=True)
    spec = modelspecs.get_spec("yunet-s")
    code, output = invoke("models", "pull", "yunet-s")
    assert code == 1
    assert spec.url in output
    assert spec.filename in output
    assert "ADLENS_OFFLINE" in output
    assert not env.cache.exists()


def test_pull_offline_reports_each_failure(env: Env) -> None:
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "pull", "yunet-s", "yunet-n")
    assert code == 1
    for name in ("yunet-s", "yunet-n"):
        assert modelspecs.get_spec(name).url in output


@needs_shared
def test_pull_present_model_offline_succeeds(env: Env) -> None:
    env.set(models=[SHARED_MODELS], offline=True)
    code, output = invoke("models", "pull", "yunet-s", "dlib-landmarks-5")
    assert code == 0, output
    assert str(SHARED_MODELS / "yunet_s_640_640.onnx") in output
    assert "dlib-landmarks-5" in output


def test_pull_unknown_name_exits_2(env: Env) -> None:
    env.set(models=[env.empty], offline=True)
    code, output = invoke("models", "pull", "nope")
    assert code == 2
    assert "known models" in output


# --------------------------------------------------------------------------- first run: every missing model named


@pytest.mark.parametrize("command", [["analyze"], ["decide"]])
def test_first_run_without_models_names_every_missing_one(command: list[str], env: Env, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(photo)
    env.monkeypatch.setenv("ADLENS_DATA_DIR", str(tmp_path / "data"))  # decide opens a store
    env.set(models=[env.empty], offline=True)
    code, output = invoke(*command, str(photo))
    assert code == 1, output
    needed = ["yunet-s", "age-mobilenet", "gender-mobilenet", "mobilenet-v1-embedding"]
    for name in needed:
        assert name in output and modelspecs.get_spec(name).filename in output
    assert "adlens models pull" in output and "ADLENS_MODELS" in output
    assert "imagenet-labels" not in output  # only what this command needs
