"""A live screen's state as compact bytes and back, so any worker of a fleet can take its next frame.

What is kept is what the next frame needs: the tracks (boxes, landmarks, identity
embedding, smoothed attributes, times), the playing ad with what its audience did so
far, and which ads each present person was shown. It is JSON with arrays as base64 of
their raw bytes, compressed with zlib: a screen with a few people takes a few KiB.
No image is kept. Only people still tracked are kept in the shown-to history: a
track that ended never comes back under the same id.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np

from adlens.audience import AudienceSummary
from adlens.decision.record import Decision
from adlens.signage.live import ScreenState
from adlens.signage.loop import SignageLoop, _Play
from adlens.signage.tracking import Track

#: The layout's version: a state written by another version is dropped (the screen starts afresh).
FORMAT = 1


def _array(value: np.ndarray | None) -> list[Any] | None:
    if value is None:
        return None
    value = np.ascontiguousarray(value)
    return [value.dtype.str, list(value.shape), base64.b64encode(value.tobytes()).decode("ascii")]


def _from_array(value: list[Any] | None) -> np.ndarray | None:
    if value is None:
        return None
    dtype, shape, data = value
    return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype)).reshape(shape).copy()


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _track(track: Track) -> dict[str, Any]:
    return {"id": track.id, "first": track.first_seen, "last": track.last_seen, "box": _array(track.box),
            "landmarks": _array(track.landmarks), "embedding": _array(track.embedding), "window": track.window,
            "score": track.score, "hits": track.hits, "dwell": track.dwell, "attention_time": track.attention_time,
            "attention": track.attention, "gap": track.gap, "gap_looking": track.gap_looking,
            "watched": track.watched, "emotions": _array(np.stack(track.emotions)) if track.emotions else None,
            "sums": track.sums, "votes": {name: [[_scalar(v), n] for v, n in votes.items()]
                                          for name, votes in track.votes.items()},
            "refreshed": track.refreshed}


def _from_track(data: dict[str, Any]) -> Track:
    emotions = _from_array(data["emotions"])
    return Track(data["id"], data["first"], data["last"], _from_array(data["box"]),  # type: ignore[arg-type]
                 _from_array(data["landmarks"]), _from_array(data["embedding"]),  # type: ignore[arg-type]
                 window=data["window"], score=data["score"], hits=data["hits"], dwell=data["dwell"],
                 attention_time=data["attention_time"], attention=data["attention"], gap=data["gap"],
                 gap_looking=data["gap_looking"], watched=data["watched"],
                 emotions=list(emotions) if emotions is not None else [],  # type: ignore[arg-type]
                 sums={name: list(pair) for name, pair in data["sums"].items()},
                 votes={name: Counter({v: n for v, n in pairs}) for name, pairs in data["votes"].items()},
                 refreshed=data["refreshed"])


def _play(play: _Play) -> dict[str, Any]:
    return {"decision": play.decision.to_json(), "started": play.started, "at": play.at.isoformat(),
            "duration": play.duration, "ids": sorted(play.ids), "audience": play.audience.to_json(),
            "people": sorted(play.people), "watchers": sorted(play.watchers), "dwell": play.dwell,
            "attention": play.attention, "emotion": _array(play.emotion), "weight": play.weight}


def _from_play(data: dict[str, Any]) -> _Play:
    return _Play(Decision.from_json(data["decision"]), data["started"], datetime.fromisoformat(data["at"]),
                 data["duration"], frozenset(data["ids"]), AudienceSummary.from_json(data["audience"]),
                 people=set(data["people"]), watchers=set(data["watchers"]), dwell=data["dwell"],
                 attention=data["attention"], emotion=_from_array(data["emotion"]),  # type: ignore[arg-type]
                 weight=data["weight"])


def dump(state: ScreenState) -> bytes:
    """``state`` as compact bytes (see the module docstring)."""
    loop = state.loop
    keys = {f"{loop.screen}:track:{track.id}" for track in loop.tracker.tracks}
    # The loop's own record of what each person saw (its frequency caps); the loop has no public accessor.
    shown = {key: {ad: [at.isoformat() for at in times] for ad, times in ads.items()}
             for key, ads in loop._shown.items() if key in keys}
    data = {"format": FORMAT, "started": state.started, "last": state.last, "frames": state.frames,
            "start": loop._start.isoformat(), "count": loop.tracker.count,
            "tracks": [_track(track) for track in loop.tracker.tracks],
            "play": _play(loop.play) if loop.play is not None else None, "shown": shown}
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)


def load(data: bytes, loop: SignageLoop) -> ScreenState:
    """The state :func:`dump` wrote, continued on ``loop`` (a fresh loop of the same screen).

    ``ValueError`` when ``data`` is not such a state (corrupt, or another :data:`FORMAT`).
    """
    try:
        found = json.loads(zlib.decompress(data))
        if found.get("format") != FORMAT:
            raise ValueError(f"a live screen state of format {found.get('format')!r}, not {FORMAT}")
        loop.tracker.count = int(found["count"])
        loop.tracker.tracks = [_from_track(track) for track in found["tracks"]]
        loop.play = _from_play(found["play"]) if found["play"] is not None else None
        loop._start = datetime.fromisoformat(found["start"])
        loop._shown = {key: {ad: [datetime.fromisoformat(at) for at in times] for ad, times in ads.items()}
                       for key, ads in found["shown"].items()}
        return ScreenState(loop, float(found["started"]), float(found["last"]), int(found["frames"]))
    except (zlib.error, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a live screen state: {error!r}") from error
