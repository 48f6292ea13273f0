"""The root ``adlens`` command (``adlens.cli``): --version, help without type noise, ``verify``."""

from __future__ import annotations

import json

import pytest
import typer

from adlens import __version__
from adlens.cli import app
from helpers import MODELS, need, run_cli as run


def all_command_paths() -> list[list[str]]:
    """Every command and group under ``adlens``, as the words that reach it."""
    paths: list[list[str]] = []

    def walk(command, words: list[str]) -> None:
        paths.append(words)
        for name, child in sorted(getattr(command, "commands", {}).items()):
            walk(child, [*words, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("args", [["--version"], ["version"]])
def test_version(args):
    result = run(*args)
    assert result.exit_code == 0 and result.stdout.strip() == f"adlens {__version__}"


def test_help_of_every_command_is_free_of_type_noise():
    paths = all_command_paths()
    assert len(paths) > 40 and ["models", "list"] in paths and ["verify"] in paths
    for words in paths:
        result = run(*words, "--help")
        assert result.exit_code == 0, (words, result.output)
        for noise in ("<bool>", "<list[", "<List["):
            assert noise not in result.output, (words, result.output)


def test_help_keeps_the_types_that_say_something():
    analyze = run("analyze", "--help").output
    assert "paths...      <path>" in analyze and "<yunet|dlib>" in analyze
    assert "--version" in run("--help").output


@pytest.fixture()
def photos(faces_small):
    need(MODELS)
    return faces_small


VERIFY_CASES = [
    # (first photo, second photo, exit status, verdict)
    ("obama-240p.jpg", "train/obama/obama.jpg", 0, "same person"),
    ("obama-240p.jpg", "train/biden/biden.jpg", 1, "different people"),
]


@pytest.mark.parametrize(("a", "b", "code", "verdict"), VERIFY_CASES)
def test_verify_exit_status_and_distance_meaning(photos, a, b, code, verdict):
    result = run("verify", str(photos / a), str(photos / b))
    assert result.exit_code == code, result.output
    assert result.stdout.startswith(f"{verdict}: distance 0.") and "(same person up to 0.60)" in result.stdout
    as_json = run("verify", str(photos / a), str(photos / b), "--json")
    assert as_json.exit_code == code and json.loads(as_json.stdout)["same"] is (code == 0)


def test_verify_errors_exit_2(photos, tmp_path):
    import numpy as np
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((100, 100, 3), 200, np.uint8)).save(blank)
    no_face = run("verify", str(blank), str(photos / "obama-240p.jpg"))
    assert no_face.exit_code == 2 and "no face found" in no_face.output
    text = tmp_path / "text.jpg"
    text.write_text("not a picture")
    unreadable = run("verify", str(text), str(photos / "obama-240p.jpg"))
    assert unreadable.exit_code == 2, unreadable.output
    missing = run("verify", str(tmp_path / "nope.jpg"), str(photos / "obama-240p.jpg"))
    assert missing.exit_code == 2
