"""Accuracy of the face attributes (eyewear, beard, hat) on labelled photos: ROC AUC, precision, recall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from adlens.attributes import AttributeModel, create_attribute_model
from adlens.detectors import Detector, create_detector
from adlens.columns import ATTRIBUTE_NAMES
from adlens.errors import InvalidInputError
from adlens.evaluation.common import Track, chip_face, no_track, outcomes
from adlens.imageio import load_image
from adlens.settings import Settings, get_settings
from adlens.workers import ItemError


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
    threshold: float | None = None, workers: int = 1,
) -> dict[str, Any]:
    """ROC AUC, precision and recall at ``threshold`` of eyewear, beard and hat on labelled photos.

    Each photo's largest detected face is scored (a photo without one is taken whole, as
    the aligned chip it usually is, and counted in ``no_face``); an empty label skips that
    attribute for that photo. ``workers`` processes score the photos at once.
    """
    settings = settings or get_settings()
    threshold = settings.attribute_threshold if threshold is None else threshold
    labels = read_attribute_labels(labels_csv)
    files = [(folder / name, row) for name, row in labels.items()]
    truth: dict[str, list[int]] = {name: [] for name in ATTRIBUTE_NAMES}
    scores: dict[str, list[float]] = {name: [] for name in ATTRIBUTE_NAMES}
    skipped: list[dict[str, str]] = []
    no_face = 0
    results = outcomes([path for path, _ in files], _attribute_models, _attribute_scores, settings, track,
                       ", ".join(ATTRIBUTE_NAMES), workers)
    for (path, row), outcome in zip(files, results, strict=True):
        if isinstance(outcome, ItemError):
            skipped.append({"image": str(path), "error": outcome.message})
            continue
        probabilities, whole = outcome
        no_face += whole
        for name, label in row.items():
            if label is not None:
                truth[name].append(label)
                scores[name].append(probabilities[name])
    result: dict[str, Any] = {
        name: _binary_scores(np.array(truth[name]), np.array(scores[name]), threshold) for name in ATTRIBUTE_NAMES
    }
    return result | {"model": _attribute_model(settings).name, "threshold": threshold,
                     "n_images": len(files) - len(skipped), "no_face": no_face, "skipped": skipped}


def _attribute_model(settings: Settings) -> AttributeModel:
    from adlens.attributes.face_attributes import HEAD

    return create_attribute_model(settings.face_attributes_model or HEAD, settings)


def _attribute_models(settings: Settings) -> tuple[Detector, AttributeModel]:
    """The detector and the eyewear, beard and hat model, loaded (a missing one stops the evaluation)."""
    return create_detector(None, settings).load(), _attribute_model(settings).load()


def _attribute_scores(models: tuple[Detector, AttributeModel], path: Path) -> tuple[dict[str, float], bool]:
    """The largest face's eyewear, beard and hat probabilities, and whether the photo was taken whole."""
    detector, model = models
    image = load_image(path, max_pixels=model.settings.max_pixels)
    face = detector.detect(image).largest()
    whole = not len(face)
    face = model.predict(image, chip_face(image) if whole else face)
    return {name: float(face.data[name][0]) for name in ATTRIBUTE_NAMES}, whole
