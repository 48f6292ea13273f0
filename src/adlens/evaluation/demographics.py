"""Accuracy of the demographic models on labelled folders: emotion (FER layout), age and gender (UTKFace names).

Each function returns a plain dict (the ``--json`` of ``adlens eval ...``).
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adlens.attributes import AttributeModel, create_attribute_model
from adlens.detectors import Detector, create_detector
from adlens.errors import InvalidInputError
from adlens.evaluation.common import Track, chip_face, load_or_skip, no_track, outcomes
from adlens.faces import AGE_BRACKETS, EMOTIONS, Faces
from adlens.imageio import iter_image_files, load_image
from adlens.settings import Settings, get_settings
from adlens.workers import ItemError


def emotion_classification(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class recall and the confusion matrix (rows: truth, columns: predicted) of
    ``(n, 7)`` emotion probabilities against class indices of :data:`~adlens.faces.EMOTIONS`."""
    truth, predicted = np.asarray(labels), probabilities.argmax(axis=1)
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    support = confusion.sum(axis=1)
    return {
        "accuracy": float((truth == predicted).mean()),
        "per_class": {
            label: {"n": int(support[k]), "recall": float(confusion[k, k] / support[k]) if support[k] else None}
            for k, label in enumerate(EMOTIONS)
        },
        "confusion": confusion.tolist(),
    }


def evaluate_emotion(
    folder: Path, model: str | None = None, settings: Settings | None = None, track: Track = no_track, *,
    detect: bool = False,
) -> dict[str, Any]:
    """Accuracy of an emotion model on a FER-layout folder (one sub-folder per class).

    By default crops are fed directly (no detection): grey, resized to the model's input.
    With ``detect`` the pipeline runs instead, as on a camera frame: each face is set in a
    photo (:func:`fer_photo`), the detector finds it, and the model cuts its own crop from the
    detector's box. A face the detector misses is fed directly and counted in ``no_face``;
    ``accuracy_detected`` is the accuracy on the others, ``accuracy_detected_crops`` theirs fed directly.
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
    detector = create_detector(None, settings).load() if detect else None
    size = emotion.crop.size
    crops: list[np.ndarray] = []
    labels: list[int] = []
    detected: list[np.ndarray] = []  # the pipeline's probabilities, where a face was found (NaN where not)
    skipped: list[dict[str, str]] = []
    for path, label in track(files, "emotion", len(files)):
        image = load_or_skip(path, settings, skipped)
        if image is None:
            continue
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        crops.append(cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)[..., None])
        labels.append(label)
        if detector is not None:
            photo = fer_photo(image)
            face = detector.detect(photo).largest()
            detected.append(emotion.predict(photo, face).data["emotion"][0] if len(face)
                            else np.full(len(EMOTIONS), np.nan, np.float32))
    if not crops:
        raise InvalidInputError(f"no readable image under {folder}")
    probabilities = direct = emotion.predict_crops(np.stack(crops))["emotion"]
    truth = np.asarray(labels)
    found = np.zeros(len(labels), dtype=bool)
    if detector is not None:
        piped = np.stack(detected)
        found = ~np.isnan(piped).any(axis=1)
        probabilities = np.where(found[:, None], piped, direct)
    measured = emotion_classification(probabilities, truth)
    result = {
        "model": emotion.name,
        "mode": "pipeline" if detect else "crops",
        "n": len(labels),
        "accuracy": measured["accuracy"],
        "per_class": measured["per_class"],
        "labels": list(EMOTIONS),
        "confusion": measured["confusion"],
        "skipped": skipped,
    }
    if detect:
        result["no_face"] = int((~found).sum())
        # the same faces fed directly: what the detector's framing costs
        result["accuracy_detected"], result["accuracy_detected_crops"] = (
            (emotion_classification(p[found], truth[found])["accuracy"] if found.any() else None)
            for p in (probabilities, direct))
    return result


#: How :func:`fer_photo` sets a FER face in a photo: enlarged 3×, with a grey margin of 48 px each side.
FER_PHOTO_SCALE, FER_PHOTO_MARGIN = 3, 48


def fer_photo(image: np.ndarray) -> np.ndarray:
    """A FER2013 face (48 px, cropped edge to edge) as a detector would meet it: enlarged (bilinear) and
    set on a grey margin, so that the whole head is inside the frame."""
    big = cv2.resize(image, None, fx=FER_PHOTO_SCALE, fy=FER_PHOTO_SCALE, interpolation=cv2.INTER_LINEAR)
    margin = FER_PHOTO_MARGIN
    return cv2.copyMakeBorder(big, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(128, 128, 128))


_UTK_NAME = re.compile(r"^(\d+)_([01])_(\d)_")
#: UTKFace's gender and ethnicity codes in its file names (AGE_GENDER_RACE_...), by value: for evaluation only.
UTK_GENDERS = ("male", "female")
UTK_GROUPS = ("white", "black", "asian", "indian", "others")


def evaluate_age_gender(
    folder: Path, settings: Settings | None = None, track: Track = no_track, *, detect: bool = False,
    workers: int = 1,
) -> dict[str, Any]:
    """Age MAE and gender accuracy on UTKFace-named files, overall, per gender × group and per true age bracket.

    By default each file is taken as the aligned face chip it is (crops fed
    directly, as the models were trained); with ``detect`` the full pipeline
    runs instead (detector, then each model's own crop), and a chip where no
    face is found is taken whole (counted in ``no_face``). The group
    (ethnicity) label is read from the file name only to report fairness;
    adlens never infers it. ``workers`` processes run the models at once.
    """
    settings = settings or get_settings()
    files: list[tuple[Path, re.Match[str]]] = []
    ignored: list[Path] = []
    for path in iter_image_files([folder]):
        match = _UTK_NAME.match(path.name)
        if match:
            files.append((path, match))
        else:
            ignored.append(path)
    if not files:
        raise InvalidInputError(f"no UTKFace-named file (AGE_GENDER_RACE_...) under {folder}")
    rows: list[tuple[int, float, str, Any, int]] = []  # true age, predicted age, true and predicted gender, group
    skipped: list[dict[str, str]] = []
    no_face = 0
    build = partial(age_gender_models, detect=detect)
    results = outcomes([path for path, _ in files], build, _age_gender, settings, track, "age & gender", workers)
    for (path, match), outcome in zip(files, results, strict=True):
        if isinstance(outcome, ItemError):
            skipped.append({"image": str(path), "error": outcome.message})
            continue
        predicted, gender, whole = outcome
        no_face += whole
        age, gender_index, race = int(match.group(1)), int(match.group(2)), int(match.group(3))
        rows.append((age, predicted, UTK_GENDERS[gender_index], gender, race))
    true_age = np.array([r[0] for r in rows], dtype=np.float64)
    predicted_age = np.array([r[1] for r in rows])
    gender_right = np.array([r[2] == r[3] for r in rows])
    genders = np.array([r[2] for r in rows])
    races = np.array([r[4] for r in rows])
    groups: dict[str, dict[str, float]] = {}
    for gender in UTK_GENDERS:
        for k, group in enumerate(UTK_GROUPS):
            mask = (genders == gender) & (races == k)
            if mask.any():
                groups[f"{gender}/{group}"] = {
                    "n": int(mask.sum()),
                    "age_mae": float(np.abs(true_age - predicted_age)[mask].mean()),
                    "gender_accuracy": float(gender_right[mask].mean()),
                }
    brackets: dict[str, dict[str, float]] = {}
    true_years = np.floor(true_age)
    for label, low, high in AGE_BRACKETS:  # by the true age: where the models err, young or old
        mask = (true_years >= low) & (true_years <= high)
        if mask.any():
            brackets[label] = {
                "n": int(mask.sum()),
                "age_mae": float(np.abs(true_age - predicted_age)[mask].mean()),
                "age_bias": float((predicted_age - true_age)[mask].mean()),
                "gender_accuracy": float(gender_right[mask].mean()),
            }
    return {
        "mode": "pipeline" if detect else "chips",
        "age_model": create_attribute_model(settings.age_model, settings).name,
        "gender_model": create_attribute_model(settings.gender_model, settings).name,
        "n": len(rows),
        "age_mae": float(np.abs(true_age - predicted_age).mean()),
        "gender_accuracy": float(gender_right.mean()),
        "groups": groups,
        "brackets": brackets,
        "no_face": no_face,
        "ignored_names": [str(p) for p in ignored],
        "skipped": skipped,
    }


AgeGenderModels = tuple[Detector | None, AttributeModel, AttributeModel]
"""The detector (``None``: chips taken whole), the age model and the gender model of an age-gender evaluation."""


def age_gender_models(settings: Settings, detect: bool) -> AgeGenderModels:
    """The detector (with ``detect``), the age and the gender model, loaded (a missing one stops the evaluation)."""
    return (create_detector(None, settings).load() if detect else None,
            create_attribute_model(settings.age_model, settings).load(),
            create_attribute_model(settings.gender_model, settings).load())


def _age_gender(models: AgeGenderModels, path: Path) -> tuple[float, str, bool]:
    """The predicted age and gender of the photo's face, and whether a photo to detect in was taken whole."""
    detector, age_model, _ = models
    image = load_image(path, max_pixels=age_model.settings.max_pixels)
    face = detector.detect(image).largest() if detector is not None else chip_face(image)
    return face_age_gender(models, image, face)


def face_age_gender(models: AgeGenderModels, image: np.ndarray, face: Faces) -> tuple[float, str, bool]:
    """The predicted age and gender of ``face`` (one face, or none: then the photo is taken whole as a chip),
    and whether it was taken whole."""
    _, age_model, gender_model = models
    whole = not len(face)
    face = gender_model.predict(image, age_model.predict(image, chip_face(image) if whole else face))
    return float(face.data["age"][0]), str(face.data["gender"][0]), whole
