"""Accuracy of the face attributes (eyewear, beard, hat) on labelled photos: ROC AUC, precision, recall."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from adlens.attributes import AttributeModel, create_attribute_model
from adlens.detectors import Detector, create_detector
from adlens.columns import ATTRIBUTE_NAMES, ATTRIBUTES
from adlens.errors import AdlensError, InvalidInputError
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


def read_male_labels(labels_csv: Path) -> dict[str, int]:
    """``file → 1 / 0`` from the optional ``male`` column of a labels CSV (celebahq_attributes has one; empty: none).

    Used only to measure false alarms of the beard on women; nothing predicts it."""
    from adlens.products.catalog import read_records

    males: dict[str, int] = {}
    for line, record in read_records(labels_csv):
        if isinstance(record, str) or not str(record.get("file", "")).strip():
            continue
        value = str(record.get("male") or "").strip()
        if value not in ("", "0", "1"):
            raise InvalidInputError(f"{labels_csv} line {line}: male must be 1, 0 or empty, not {value!r}")
        if value:
            males[str(record["file"]).strip()] = int(value)
    return males


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
    """ROC AUC, precision and recall at each attribute's threshold of eyewear, beard and hat on labelled photos.

    Each photo's largest detected face is scored (a photo without one is taken whole, as
    the aligned chip it usually is, and counted in ``no_face``); an empty label skips that
    attribute for that photo. ``threshold`` replaces the three thresholds (default: each
    attribute's, :meth:`~adlens.columns.Attribute.threshold`). With a ``male`` column the false
    alarms of the beard on women are measured, and always those of the hat on bare heads.
    ``training`` says whether the labels' data set was part of the model's training (from the
    model's metadata) and gives the model card's cross-validated AUCs on it. ``workers``
    processes score the photos at once.
    """
    settings = settings or get_settings()
    thresholds = {a.name: a.threshold(settings) if threshold is None else threshold for a in ATTRIBUTES}
    labels = read_attribute_labels(labels_csv)
    males = read_male_labels(labels_csv)
    files = [(folder / name, row) for name, row in labels.items()]
    truth: dict[str, list[int]] = {name: [] for name in ATTRIBUTE_NAMES}
    scores: dict[str, list[float]] = {name: [] for name in ATTRIBUTE_NAMES}
    women: list[float] = []
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
        if males.get(path.name) == 0 and row["beard"] == 0:
            women.append(probabilities["beard"])
    result: dict[str, Any] = {
        name: _binary_scores(np.array(truth[name]), np.array(scores[name]), thresholds[name]) for name in ATTRIBUTE_NAMES
    }
    bare = np.array(scores["hat"])[np.array(truth["hat"]) == 0]
    alarms = {"beard_on_women": np.array(women), "hat_on_bare_heads": bare}
    false_alarms = {
        name: {"rate": round(float((values >= thresholds[name.split("_")[0]]).mean()), 4), "faces": int(len(values))}
        for name, values in alarms.items() if len(values)
    }
    model = _attribute_model(settings)
    return result | {"model": model.name, "threshold": threshold, "thresholds": thresholds,
                     "false_alarms": false_alarms, "training": _training(model, labels_csv.parent.name),
                     "n_images": len(files) - len(skipped), "no_face": no_face, "skipped": skipped}


def _training(model: AttributeModel, dataset: str) -> dict[str, Any]:
    """Whether ``dataset`` (a labels folder's name) was part of the model's training, from its ONNX metadata,
    with the model card's cross-validated AUCs on it."""
    import onnxruntime as ort

    from adlens.registry import resolve

    try:
        path = resolve(model.model_name, model.settings, download=False)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        metadata = dict(session.get_modelmeta().custom_metadata_map)
    except (AdlensError, OSError, ValueError, RuntimeError):
        return {"dataset": dataset, "part_of_training": None}
    trained_on = json.loads(metadata.get("datasets", "[]"))
    cross_validated = json.loads(metadata.get("cv_metrics", "{}")).get(dataset)
    return {"dataset": dataset, "part_of_training": dataset in trained_on, "trained_on": trained_on,
            "cross_validated": cross_validated, "card": metadata.get("card", "")}


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
