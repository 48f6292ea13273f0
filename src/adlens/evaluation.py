"""Accuracy evaluations on labelled folders: emotion, age and gender, verification.

Each function returns a plain dict (the ``--json`` of ``adlens eval ...``) and
takes a ``track`` wrapper for progress reporting (identity by default).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from adlens.attributes import create_attribute_model
from adlens.attributes.models import UTKFACE_TEMPLATE
from adlens.detectors import create_detector
from adlens.embed import DlibEmbedder
from adlens.errors import AdlensError, InvalidInputError
from adlens.columns import ATTRIBUTE_NAMES
from adlens.faces import EMOTIONS, Faces
from adlens.imageio import iter_image_files, load_image
from adlens.settings import Settings, get_settings

T = TypeVar("T")
Track = Callable[[Iterable[T], str, int], Iterable[T]]


def no_track(items: Iterable[T], description: str = "", total: int = 0) -> Iterable[T]:
    """A :data:`Track` that shows nothing: the default of every evaluation's progress hook."""
    return items


def _load_or_skip(path: Path, settings: Settings, skipped: list[dict[str, str]]) -> np.ndarray | None:
    """The decoded image, or ``None`` after noting in ``skipped`` why it could not be read."""
    try:
        return load_image(path, max_pixels=settings.max_pixels)
    except AdlensError as error:
        skipped.append({"image": str(path), "error": error.message})
        return None


def _confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def evaluate_emotion(
    folder: Path, model: str | None = None, settings: Settings | None = None, track: Track = no_track
) -> dict[str, Any]:
    """Accuracy of an emotion model on a FER-layout folder (one sub-folder per class).

    Crops are fed directly (no detection): grey, resized to the model's input.
    """
    settings = settings or get_settings()
    emotion = create_attribute_model(model or settings.emotion_model, settings)
    folders = sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = [p.name for p in folders if p.name not in EMOTIONS]
    if not folders or unknown:
        raise InvalidInputError(
            f"{folder} must hold one folder per emotion ({', '.join(EMOTIONS)}); "
            + (f"unknown folders: {', '.join(unknown)}" if unknown else "found none")
        )
    files = [(f, EMOTIONS.index(p.name)) for p in folders for f in iter_image_files([p])]
    size = emotion.crop.size
    crops, labels, skipped = [], [], []
    for path, label in track(files, "emotion", len(files)):
        image = _load_or_skip(path, settings, skipped)
        if image is None:
            continue
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        crops.append(cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)[..., None])
        labels.append(label)
    if not crops:
        raise InvalidInputError(f"no readable image under {folder}")
    probabilities = emotion.predict_crops(np.stack(crops))["emotion"]
    truth, predicted = np.asarray(labels), probabilities.argmax(axis=1)
    confusion = _confusion(truth, predicted, len(EMOTIONS))
    support = confusion.sum(axis=1)
    return {
        "model": emotion.name,
        "n": int(len(truth)),
        "accuracy": float((truth == predicted).mean()),
        "per_class": {
            label: {"n": int(support[k]), "recall": float(confusion[k, k] / support[k]) if support[k] else None}
            for k, label in enumerate(EMOTIONS)
        },
        "labels": list(EMOTIONS),
        "confusion": confusion.tolist(),
        "skipped": skipped,
    }


_UTK_NAME = re.compile(r"^(\d+)_([01])_(\d)_")
_UTK_GENDER = ("male", "female")
_UTK_GROUPS = ("white", "black", "asian", "indian", "others")


def _chip_face(image: np.ndarray) -> Faces:
    """The whole image as one aligned face chip (UTKFace geometry): box and landmarks."""
    height, width = image.shape[:2]
    landmarks = np.asarray(UTKFACE_TEMPLATE, dtype=np.float32) * [width, height]
    return Faces(np.array([[0, 0, width, height]]), np.array([1.0]), landmarks[None])


def evaluate_age_gender(
    folder: Path, settings: Settings | None = None, track: Track = no_track, *, detect: bool = False
) -> dict[str, Any]:
    """Age MAE and gender accuracy on UTKFace-named files, overall and per gender × group.

    By default each file is taken as the aligned face chip it is (crops fed
    directly, as the models were trained); with ``detect`` the full pipeline
    runs instead (detector, then each model's own crop), and a chip where no
    face is found is taken whole (counted in ``no_face``). The group
    (ethnicity) label is read from the file name only to report fairness;
    adlens never infers it.
    """
    settings = settings or get_settings()
    detector = create_detector(None, settings)
    age_model = create_attribute_model(settings.age_model, settings)
    gender_model = create_attribute_model(settings.gender_model, settings)
    files, ignored = [], []
    for path in iter_image_files([folder]):
        match = _UTK_NAME.match(path.name)
        (files if match else ignored).append((path, match))
    if not files:
        raise InvalidInputError(f"no UTKFace-named file (AGE_GENDER_RACE_...) under {folder}")
    rows, skipped, no_face = [], [], 0
    for path, match in track(files, "age & gender", len(files)):
        image = _load_or_skip(path, settings, skipped)
        if image is None:
            continue
        face = detector.detect(image).largest() if detect else _chip_face(image)
        if not len(face):
            face, no_face = _chip_face(image), no_face + 1
        face = gender_model.predict(image, age_model.predict(image, face))
        age, gender, race = int(match.group(1)), int(match.group(2)), int(match.group(3))
        rows.append((age, float(face.data["age"][0]), _UTK_GENDER[gender], face.data["gender"][0], race))
    true_age = np.array([r[0] for r in rows], dtype=np.float64)
    predicted_age = np.array([r[1] for r in rows])
    gender_right = np.array([r[2] == r[3] for r in rows])
    genders = np.array([r[2] for r in rows])
    races = np.array([r[4] for r in rows])
    groups = {}
    for gender in _UTK_GENDER:
        for k, group in enumerate(_UTK_GROUPS):
            mask = (genders == gender) & (races == k)
            if mask.any():
                groups[f"{gender}/{group}"] = {
                    "n": int(mask.sum()),
                    "age_mae": float(np.abs(true_age - predicted_age)[mask].mean()),
                    "gender_accuracy": float(gender_right[mask].mean()),
                }
    return {
        "mode": "pipeline" if detect else "chips",
        "age_model": age_model.name,
        "gender_model": gender_model.name,
        "n": len(rows),
        "age_mae": float(np.abs(true_age - predicted_age).mean()),
        "gender_accuracy": float(gender_right.mean()),
        "groups": groups,
        "no_face": no_face,
        "ignored_names": [str(p) for p, _ in ignored],
        "skipped": skipped,
    }


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
        self.embedder = DlibEmbedder(self.settings)
        self._cache: dict[str, np.ndarray | None] = {}

    def largest(self, source: Any) -> np.ndarray | None:
        """The embedding of the largest face, ``None`` when there is no face."""
        key = str(source)
        if key not in self._cache:
            image = load_image(source, max_pixels=self.settings.max_pixels)
            faces = self.detector.detect(image).largest()
            self._cache[key] = self.embedder.embed(image, faces).embeddings[0] if len(faces) else None
        return self._cache[key]


def evaluate_verification(
    pairs_csv: Path, root: Path, settings: Settings | None = None, track: Track = no_track
) -> dict[str, Any]:
    """Same-person accuracy on labelled pairs at the configured match threshold."""
    settings = settings or get_settings()
    pairs = read_pairs(pairs_csv)
    embeddings = FaceEmbeddings(settings)
    threshold = settings.match_threshold
    tp = fp = fn = tn = 0
    no_face: list[dict[str, str]] = []
    for file_x, file_y, same in track(pairs, "pairs", len(pairs)):
        try:
            ex, ey = embeddings.largest(Path(root) / file_x), embeddings.largest(Path(root) / file_y)
        except AdlensError as error:
            no_face.append({"file_x": file_x, "file_y": file_y, "reason": error.message})
            continue
        if ex is None or ey is None:
            missing = file_x if ex is None else file_y
            no_face.append({"file_x": file_x, "file_y": file_y, "reason": f"no face in {missing}"})
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



def read_attribute_labels(labels_csv: Path) -> dict[str, dict[str, int | None]]:
    """``file → {eyewear, beard, hat: 1, 0 or None}`` from a ``file,eyewear,beard,hat`` CSV (empty = unsure)."""
    from adlens.products.catalog import read_records

    labels: dict[str, dict[str, int | None]] = {}
    for line, record in read_records(labels_csv):
        if isinstance(record, str) or not str(record.get("file", "")).strip():
            continue
        row: dict[str, int | None] = {}
        for name in ATTRIBUTE_NAMES:
            value = str(record.get(name) or "").strip()
            if value not in ("", "0", "1"):
                raise InvalidInputError(f"{labels_csv} line {line}: {name} must be 1, 0 or empty, not {value!r}")
            row[name] = int(value) if value else None
        labels[str(record["file"]).strip()] = row
    if not labels:
        raise InvalidInputError(f"{labels_csv} has no rows with a 'file' column")
    return labels


def _binary_scores(truth: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    predicted = probability >= threshold
    positives = int(truth.sum())
    auc = float(roc_auc_score(truth, probability)) if 0 < positives < len(truth) else None
    true_positive = int((predicted & (truth == 1)).sum())
    return {
        "auc": None if auc is None else round(auc, 4),
        "precision": round(true_positive / int(predicted.sum()), 4) if predicted.any() else None,
        "recall": round(true_positive / positives, 4) if positives else None,
        "n": int(len(truth)), "positives": positives,
    }


def evaluate_attributes(
    folder: Path, labels_csv: Path, settings: Settings | None = None, track: Track = no_track,
    threshold: float | None = None,
) -> dict[str, Any]:
    """ROC AUC, precision and recall at ``threshold`` of eyewear, beard and hat on labelled photos.

    Each photo's largest detected face is scored (a photo without one is taken whole, as
    the aligned chip it usually is, and counted in ``no_face``); an empty label skips that
    attribute for that photo.
    """
    from adlens.attributes.face_attributes import HEAD

    settings = settings or get_settings()
    threshold = settings.attribute_threshold if threshold is None else threshold
    labels = read_attribute_labels(labels_csv)
    detector = create_detector(None, settings)
    model = create_attribute_model(settings.face_attributes_model or HEAD, settings)
    files = [(folder / name, row) for name, row in labels.items()]
    truth: dict[str, list[int]] = {name: [] for name in ATTRIBUTE_NAMES}
    scores: dict[str, list[float]] = {name: [] for name in ATTRIBUTE_NAMES}
    skipped: list[dict[str, str]] = []
    no_face = 0
    for path, row in track(files, ", ".join(ATTRIBUTE_NAMES), len(files)):
        image = _load_or_skip(path, settings, skipped)
        if image is None:
            continue
        face = detector.detect(image).largest()
        if not len(face):
            face, no_face = _chip_face(image), no_face + 1
        face = model.predict(image, face)
        for name in ATTRIBUTE_NAMES:
            if row[name] is not None:
                truth[name].append(row[name])
                scores[name].append(float(face.data[name][0]))
    result: dict[str, Any] = {
        name: _binary_scores(np.array(truth[name]), np.array(scores[name]), threshold) for name in ATTRIBUTE_NAMES
    }
    return result | {"model": model.name, "threshold": threshold, "n_images": len(files) - len(skipped),
                     "no_face": no_face, "skipped": skipped}
