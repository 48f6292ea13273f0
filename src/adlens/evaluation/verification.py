"""Face verification accuracy on labelled pairs: is it the same person, at the configured match threshold."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from adlens.chips import FaceAligner
from adlens.detectors import create_detector
from adlens.embed import create_embedder
from adlens.errors import InvalidInputError
from adlens.evaluation.common import Track, no_track, outcomes
from adlens.faces import Faces
from adlens.imageio import load_image
from adlens.settings import Settings, get_settings
from adlens.workers import ItemError


def read_pairs(pairs_csv: Path) -> list[tuple[str, str, bool]]:
    """Rows ``file_x, file_y, Decision`` (Yes/No) of a verification CSV."""
    try:
        with open(pairs_csv, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"file_x", "file_y", "Decision"} - set(reader.fieldnames or ())
            if missing:
                raise InvalidInputError(f"{pairs_csv}: missing column(s) {', '.join(sorted(missing))}")
            pairs = []
            for line, row in enumerate(reader, start=2):
                decision = (row["Decision"] or "").strip().lower()
                if decision not in ("yes", "no"):
                    raise InvalidInputError(f"{pairs_csv}:{line}: Decision must be Yes or No, got {row['Decision']!r}")
                pairs.append((row["file_x"].strip(), row["file_y"].strip(), decision == "yes"))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidInputError(f"cannot read {pairs_csv}: {error}") from error
    return pairs


class FaceEmbeddings:
    """The embedding of the largest face of each file, computed once per file."""

    def __init__(self, settings: Settings | None = None, detector: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.detector = create_detector(detector, self.settings)
        self.aligner = FaceAligner(self.settings, self.detector.name)
        self.embedder = create_embedder(settings=self.settings)
        self._cache: dict[str, np.ndarray | None] = {}

    def load(self) -> FaceEmbeddings:
        """Load the detector, the aligner and the embedder now (a missing model stops here); returns ``self``."""
        self.detector.load()
        self.aligner.load()
        self.embedder.load()
        return self

    @classmethod
    def loaded(cls, settings: Settings) -> FaceEmbeddings:
        """A loaded instance for ``settings`` (the ``build`` of a worker)."""
        return cls(settings).load()

    def largest(self, source: Any) -> np.ndarray | None:
        """The embedding of the largest face, ``None`` when there is no face."""
        key = str(source)
        if key not in self._cache:
            image = load_image(source, max_pixels=self.settings.max_pixels)
            faces = self.detector.detect(image).largest()
            self._cache[key] = self.embedding(image, faces) if len(faces) else None
        return self._cache[key]

    def embedding(self, image: np.ndarray, face: Faces) -> np.ndarray:
        """The embedding of ``face`` (one face) in ``image``: its aligned chip through the embedder."""
        return self.embedder.embed_chips(self.aligner.chips(image, face))[0]


Embedding = np.ndarray | None | ItemError
"""A file's largest face's embedding, ``None`` without a face, or why the file could not be read."""


def evaluate_verification(
    pairs_csv: Path, root: Path, settings: Settings | None = None, track: Track = no_track, workers: int = 1
) -> dict[str, Any]:
    """Same-person accuracy on labelled pairs at the configured match threshold.

    Each file's embedding is computed once, by ``workers`` processes at once; then the pairs are judged.
    """
    settings = settings or get_settings()
    pairs = read_pairs(pairs_csv)
    files = list(dict.fromkeys(name for file_x, file_y, _ in pairs for name in (file_x, file_y)))
    computed = outcomes([Path(root) / name for name in files], FaceEmbeddings.loaded, _largest, settings, track,
                        "faces", workers)
    embedding = dict(zip(files, computed, strict=True))
    threshold = settings.match_threshold
    tp = fp = fn = tn = 0
    no_face: list[dict[str, str]] = []
    for file_x, file_y, same in pairs:
        ex, ey = embedding[file_x], embedding[file_y]
        if not isinstance(ex, np.ndarray) or not isinstance(ey, np.ndarray):
            no_face.append({"file_x": file_x, "file_y": file_y, "reason": _unjudged(file_x, ex, file_y, ey)})
            continue
        predicted = float(np.linalg.norm(ex - ey)) <= threshold
        tp += predicted and same
        fp += predicted and not same
        fn += (not predicted) and same
        tn += (not predicted) and not same
    judged = tp + fp + fn + tn
    return {
        "n": len(pairs),
        "judged": judged,
        "threshold": threshold,
        "accuracy": (tp + tn) / judged if judged else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "no_face": no_face,
    }


def _unjudged(file_x: str, ex: Embedding, file_y: str, ey: Embedding) -> str:
    """Why a pair without two embeddings is not judged: the first file's error, else the first without a face."""
    for value in (ex, ey):
        if isinstance(value, ItemError):
            return value.message
    return f"no face in {file_x if ex is None else file_y}"


def _largest(embeddings: FaceEmbeddings, path: Path) -> np.ndarray | None:
    return embeddings.largest(path)
