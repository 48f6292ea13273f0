"""How well an ad's mood fits how the audience feels: the emotion-fit table.

An ad declares a *mood* (``upbeat``, ``calm``, ``comforting``, ``exciting``,
``informative``); the table gives, for each of the seven emotions of
:data:`adlens.faces.EMOTIONS`, how well each mood suits a person showing it, in
``[0, 1]``. A cheerful group suits an upbeat ad, a sad one a comforting ad. The fit
of an ad for a group is the expected fit under the group's emotion distribution
(:meth:`~adlens.audience.Audience.group_emotion`). ``ADLENS_EMOTION_FIT`` names a
YAML or JSON file ``{emotion: {mood: value}}`` replacing the built-in table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from adlens.errors import InvalidInputError
from adlens.faces import EMOTIONS
from adlens.settings import Settings, get_settings

#: The fit of an ad without a mood, or for an audience without emotions.
NEUTRAL_FIT = 0.5

DEFAULT_FIT: dict[str, dict[str, float]] = {
    "angry":    {"upbeat": 0.2, "calm": 0.8, "comforting": 0.6, "exciting": 0.1, "informative": 0.5},
    "disgust":  {"upbeat": 0.3, "calm": 0.6, "comforting": 0.5, "exciting": 0.2, "informative": 0.6},
    "fear":     {"upbeat": 0.2, "calm": 0.8, "comforting": 0.9, "exciting": 0.1, "informative": 0.5},
    "happy":    {"upbeat": 1.0, "calm": 0.5, "comforting": 0.4, "exciting": 0.8, "informative": 0.5},
    "sad":      {"upbeat": 0.2, "calm": 0.6, "comforting": 0.9, "exciting": 0.2, "informative": 0.4},
    "surprise": {"upbeat": 0.7, "calm": 0.4, "comforting": 0.3, "exciting": 0.9, "informative": 0.7},
    "neutral":  {"upbeat": 0.6, "calm": 0.6, "comforting": 0.5, "exciting": 0.6, "informative": 0.8},
}
"""The built-in table: emotion → mood → fit (rows in :data:`EMOTIONS` order)."""


@dataclass(frozen=True)
class EmotionFit:
    """An emotion-fit table: ``matrix[e, m]`` is the fit of mood ``moods[m]`` for emotion ``EMOTIONS[e]``."""

    moods: tuple[str, ...]
    matrix: np.ndarray

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], source: str = "the emotion-fit table") -> EmotionFit:
        """Validate ``{emotion: {mood: value}}``: all seven emotions, the same moods in each, values in [0, 1]."""
        if not isinstance(table, Mapping):
            raise InvalidInputError(f"{source}: expected a mapping emotion → {{mood: fit}}, got {type(table).__name__}")
        unknown = [str(e) for e in table if e not in EMOTIONS]
        if unknown:
            raise InvalidInputError(f"{source}: unknown emotion {', '.join(unknown)}; expected {', '.join(EMOTIONS)}")
        missing = [e for e in EMOTIONS if e not in table]
        if missing:
            raise InvalidInputError(f"{source}: no row for {', '.join(missing)} (every emotion needs one)")
        moods: tuple[str, ...] | None = None
        rows = []
        for emotion in EMOTIONS:
            row = table[emotion]
            if not isinstance(row, Mapping) or not row:
                raise InvalidInputError(f"{source}: {emotion}: expected a non-empty mapping mood → fit")
            names = tuple(str(m) for m in row)
            if moods is None:
                moods = names
            elif set(names) != set(moods):
                raise InvalidInputError(
                    f"{source}: {emotion}: moods {', '.join(sorted(names))} differ from the first row's "
                    f"{', '.join(sorted(moods))}; every emotion must rate the same moods")
            values = []
            for mood in moods:
                value = row[mood]
                # "not 0 <= value <= 1" also refuses NaN.
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise InvalidInputError(
                        f"{source}: {emotion}.{mood}: fit must be a number in [0, 1], not {value!r}")
                values.append(float(value))
            rows.append(values)
        assert moods is not None
        return cls(moods, np.array(rows, dtype=np.float64))

    def fit(self, mood: str | None, group_emotion: np.ndarray | None) -> float:
        """The expected fit of ``mood`` under the emotion distribution ``group_emotion`` (shape (7,)).

        ``None`` for either, a mood this table does not rate, or an all-zero distribution
        give :data:`NEUTRAL_FIT`: no evidence either way.
        """
        if mood is None or mood not in self.moods:
            return NEUTRAL_FIT
        return self.fits(group_emotion).get(mood, NEUTRAL_FIT)

    def fits(self, group_emotion: np.ndarray | None) -> dict[str, float]:
        """:meth:`fit` of every mood of the table at once (one product): empty where it gives
        :data:`NEUTRAL_FIT` to every mood (no distribution, or an all-zero one)."""
        if group_emotion is None:
            return {}
        weights = np.clip(np.asarray(group_emotion, dtype=np.float64).reshape(-1), 0.0, None)
        if weights.shape != (len(EMOTIONS),):
            raise InvalidInputError(f"a group emotion has {len(EMOTIONS)} probabilities, not {weights.size}")
        total = weights.sum()
        if not np.isfinite(total) or total <= 0:
            return {}
        return dict(zip(self.moods, (weights @ self.matrix / total).tolist(), strict=True))

    def to_mapping(self) -> dict[str, dict[str, float]]:
        """The table as ``{emotion: {mood: fit}}``."""
        return {e: dict(zip(self.moods, map(float, row), strict=True)) for e, row in zip(EMOTIONS, self.matrix)}


DEFAULT_TABLE = EmotionFit.from_mapping(DEFAULT_FIT, "the built-in emotion-fit table")
#: The moods of the built-in table.
MOODS: tuple[str, ...] = DEFAULT_TABLE.moods


def load_emotion_fit(path: str | Path) -> EmotionFit:
    """Read and validate an emotion-fit table from a YAML or JSON file ``{emotion: {mood: fit}}``."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read the emotion-fit table {path}: {error}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidInputError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                                f"{error}") from None
    return EmotionFit.from_mapping(data if data is not None else {}, str(path))


@lru_cache(maxsize=4)
def _cached(path: str, _mtime_ns: int) -> EmotionFit:
    return load_emotion_fit(path)


def emotion_table(settings: Settings | None = None) -> EmotionFit:
    """The table in force: ``ADLENS_EMOTION_FIT`` when set (re-read when the file changes), else the built-in one."""
    path = (settings or get_settings()).emotion_fit
    if path is None:
        return DEFAULT_TABLE
    path = Path(path).expanduser()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as error:
        raise InvalidInputError(f"cannot read the emotion-fit table {path}: {error}") from None
    return _cached(str(path), mtime)


def emotion_fit(mood: str | None, group_emotion: np.ndarray | None, table: EmotionFit | None = None) -> float:
    """The fit in ``[0, 1]`` of an ad's ``mood`` for a group's emotion distribution (built-in table by default)."""
    return (table or DEFAULT_TABLE).fit(mood, group_emotion)
