"""A file cache of each face's training rows, so a retrain reads features instead of running the backbone.

One ``.npz`` per labelled face, named by a hash of everything that decides its rows: the
image file (path, size, modification time), its labels, its random stream, and the
featurizing configuration (crop, backbone, mirroring, the synthetic recipe). A change to
any of them is a new name, so a stale entry is never read; deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adlens.files import atomic_path, write_text_atomic


@dataclass
class FaceRows:
    """The rows one labelled face makes: features ``(m, d)``, each row's kind and whether it is mirrored,
    and how many of its images had no detected face (``no_face`` 0/1 for the photo, ``synthetic_no_face``)."""

    features: np.ndarray
    kind: np.ndarray
    mirrored: np.ndarray
    no_face: int = 0
    synthetic_no_face: int = 0


class FeatureCache:
    """Per-face rows under ``folder``, for one featurizing ``config`` (any text that pins it down)."""

    def __init__(self, folder: Path, config: str) -> None:
        self.folder = Path(folder) / hashlib.sha256(config.encode()).hexdigest()[:16]
        self.config = config

    def path(self, image: Path, key: str) -> Path:
        """The entry of ``image`` with per-face ``key`` (labels, random stream)."""
        stat = image.stat()
        text = f"{image.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{key}"
        digest = hashlib.sha256(text.encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.npz"

    def get(self, image: Path, key: str) -> FaceRows | None:
        """The cached rows, or ``None`` when there are none (or the entry cannot be read)."""
        path = self.path(image, key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                counts = data["counts"]
                return FaceRows(data["features"], data["kind"].astype(object), data["mirrored"],
                                int(counts[0]), int(counts[1]))
        except (OSError, ValueError, KeyError):
            return None

    def put(self, image: Path, key: str, rows: FaceRows) -> None:
        """Store ``rows`` atomically (a half-written entry is never read)."""
        path = self.path(image, key)
        if not (self.folder / "config.txt").is_file():
            write_text_atomic(self.folder / "config.txt", self.config + "\n", "the feature cache's config")
        with atomic_path(path, "a cached face") as partial, partial.open("wb") as out:
            np.savez(out, features=rows.features.astype(np.float32), kind=rows.kind.astype(str),
                     mirrored=rows.mirrored.astype(bool), counts=np.array([rows.no_face, rows.synthetic_no_face]))
