"""The emotion-fit table: expected fit under a group's emotions, loading and validating custom tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from adlens.ads.emotion import DEFAULT_FIT, DEFAULT_TABLE, MOODS, NEUTRAL_FIT, emotion_fit, emotion_table, load_emotion_fit
from adlens.errors import InvalidInputError
from adlens.faces import EMOTIONS
from adlens.settings import get_settings


def distribution(**weights: float) -> np.ndarray:
    return np.array([weights.get(e, 0.0) for e in EMOTIONS])


def test_default_table_covers_every_emotion_and_mood() -> None:
    assert set(DEFAULT_FIT) == set(EMOTIONS)
    assert MOODS == ("upbeat", "calm", "comforting", "exciting", "informative")
    values = [v for row in DEFAULT_FIT.values() for v in row.values()]
    assert all(0.0 <= v <= 1.0 for v in values)


@pytest.mark.parametrize(("mood", "group", "expected"), [
    ("upbeat", distribution(happy=1), 1.0),
    ("exciting", distribution(happy=1), 0.8),
    ("comforting", distribution(sad=1), 0.9),
    ("upbeat", distribution(sad=1), 0.2),
    ("informative", distribution(neutral=1), 0.8),
    ("upbeat", distribution(happy=0.5, sad=0.5), 0.6),  # the expectation over the group
    ("upbeat", distribution(happy=2, sad=2), 0.6),  # weights need not sum to 1
    (None, distribution(happy=1), NEUTRAL_FIT),
    ("upbeat", None, NEUTRAL_FIT),
    ("unknown-mood", distribution(happy=1), NEUTRAL_FIT),
    ("upbeat", distribution(), NEUTRAL_FIT),
])
def test_emotion_fit(mood: str | None, group: np.ndarray | None, expected: float) -> None:
    assert emotion_fit(mood, group) == pytest.approx(expected)


@pytest.mark.parametrize("group", [distribution(happy=1), distribution(happy=0.3, sad=0.5, fear=0.2), None,
                                   distribution()])
def test_fits_gives_every_moods_fit_at_once(group: np.ndarray | None) -> None:
    fits = DEFAULT_TABLE.fits(group)
    assert all(fits.get(mood, NEUTRAL_FIT) == pytest.approx(emotion_fit(mood, group)) for mood in MOODS)
    assert set(fits) == (set(MOODS) if group is not None and group.sum() > 0 else set())


def test_group_emotion_must_have_seven_values() -> None:
    with pytest.raises(InvalidInputError, match="7 probabilities"):
        emotion_fit("upbeat", np.ones(3))


def write(path: Path, table: object) -> Path:
    path.write_text(json.dumps(table) if path.suffix == ".json" else yaml.safe_dump(table))
    return path


@pytest.mark.parametrize("name", ["fit.yaml", "fit.json"])
def test_load_a_custom_table(tmp_path: Path, name: str) -> None:
    table = {e: {"cheerful": 0.9 if e == "happy" else 0.1, "quiet": 0.5} for e in EMOTIONS}
    loaded = load_emotion_fit(write(tmp_path / name, table))
    assert loaded.moods == ("cheerful", "quiet")
    assert loaded.fit("cheerful", distribution(happy=1)) == pytest.approx(0.9)
    assert emotion_fit("cheerful", distribution(sad=1), loaded) == pytest.approx(0.1)
    assert loaded.to_mapping() == table


def _table_with(emotion: str, row: object) -> dict:
    return {**{e: {"a": 0.5, "b": 0.5} for e in EMOTIONS}, emotion: row}


@pytest.mark.parametrize(("table", "message"), [
    ([1, 2], "expected a mapping"),
    ({e: {"a": 0.5} for e in EMOTIONS[:-1]}, "no row for neutral"),
    ({**{e: {"a": 0.5} for e in EMOTIONS}, "bored": {"a": 0.5}}, "unknown emotion bored"),
    (_table_with("sad", {"a": 1.5, "b": 0.5}), r"sad.a: fit must be a number in \[0, 1\], not 1.5"),
    (_table_with("sad", {"a": "high", "b": 0.5}), "sad.a: fit must be a number"),
    (_table_with("sad", {"a": 0.5}), "sad: moods a differ from the first row's a, b"),
    (_table_with("angry", {}), "angry: expected a non-empty mapping"),
])
def test_invalid_tables_are_refused(tmp_path: Path, table: object, message: str) -> None:
    path = write(tmp_path / "fit.json", table)
    with pytest.raises(InvalidInputError, match=message) as caught:
        load_emotion_fit(path)
    assert str(path) in caught.value.message


@pytest.mark.parametrize(("name", "text", "message"), [
    ("fit.yaml", "happy: [unclosed", "not valid YAML"),
    ("fit.json", "{", "not valid JSON"),
    ("missing.yaml", None, "cannot read the emotion-fit table"),
])
def test_unreadable_tables(tmp_path: Path, name: str, text: str | None, message: str) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        load_emotion_fit(tmp_path / name)


def test_the_table_in_force_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert emotion_table(get_settings().model_copy(update={"emotion_fit": None})).moods == MOODS
    path = write(tmp_path / "fit.yaml", {e: {"soft": 0.3} for e in EMOTIONS})
    monkeypatch.setenv("ADLENS_EMOTION_FIT", str(path))
    get_settings.cache_clear()
    try:
        assert emotion_table().moods == ("soft",)
        assert emotion_table() is emotion_table()  # read once while the file is unchanged
    finally:
        get_settings.cache_clear()
