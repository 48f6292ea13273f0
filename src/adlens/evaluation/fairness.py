"""How fair the demographic models and the face embedding are across groups of people: ``adlens eval fairness``.

UTKFace-named photos (``AGE_GENDER_RACE_DATE.jpg``) go through the whole pipeline
(detection, alignment, the age and gender models, the embedder the gallery uses), as
``adlens eval age-gender --detect`` does, one file at a time by
:func:`adlens.evaluation.demographics.face_age_gender` and
:meth:`adlens.evaluation.verification.FaceEmbeddings.embedding`. The ethnicity label is
read from the file names only, to report on; adlens never infers it. The statistics are
:mod:`adlens.evaluation.groupstats`; the HTML page is :mod:`adlens.evaluation.fairness_page`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adlens.embed import EMBEDDING_MODEL
from adlens.errors import InvalidInputError, UnknownNameError
from adlens.evaluation.common import Track, no_track, outcomes
from adlens.evaluation.demographics import (UTK_GENDERS, UTK_GROUPS, AgeGenderModels, age_gender_models,
                                            face_age_gender)
from adlens.evaluation.groupstats import summarize
from adlens.evaluation.verification import FaceEmbeddings
from adlens.imageio import iter_image_files, load_image
from adlens.modelspecs import get_spec
from adlens.settings import Settings, get_settings
from adlens.workers import ItemError

#: The labels of UTKFace's file names: gender 0 male, 1 female; race 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others.
GENDERS, ETHNICITIES = UTK_GENDERS, UTK_GROUPS
_NAME = re.compile(r"^(\d{1,3})_([01])_([0-4])_\d")


@dataclass(frozen=True)
class Labelled:
    """A photo and the labels its UTKFace name gives: true age, gender and ethnicity (indices into the names)."""

    path: Path
    age: int
    gender: int
    ethnicity: int

    @property
    def group(self) -> str:
        """``gender/ethnicity``, e.g. ``female/asian``."""
        return f"{GENDERS[self.gender]}/{ETHNICITIES[self.ethnicity]}"


@dataclass(frozen=True)
class Outcome:
    """What the pipeline made of one photo: age and gender, and the face's embedding (``None``: no face found,
    the photo was then taken whole for age and gender)."""

    age: float
    gender: str
    embedding: np.ndarray | None


def parse_name(path: Path) -> Labelled | None:
    """The labels of a UTKFace file name ``AGE_GENDER_RACE_DATE.ext``, ``None`` when it does not parse
    (gender outside 0–1, race outside 0–4, a part missing)."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    return Labelled(path, int(match.group(1)), int(match.group(2)), int(match.group(3)))


def evaluate_fairness(
    folder: Path, settings: Settings | None = None, track: Track = no_track, workers: int = 1, seed: int = 0
) -> dict[str, Any]:
    """Age, gender and false-match fairness on the UTKFace-named photos under ``folder`` (``--json``).

    Names that do not parse and files that cannot be read are counted and listed, and the
    run goes on; ``seed`` seeds the bootstrap intervals of the age MAE.
    """
    settings = settings or get_settings()
    photos, bad_names = [], []
    for path in iter_image_files([folder]):
        labelled = parse_name(path)
        if labelled is None:
            bad_names.append(str(path))
        else:
            photos.append(labelled)
    if not photos:
        raise InvalidInputError(f"no UTKFace-named file (AGE_GENDER_RACE_DATE.jpg) under {folder}")
    results = list(outcomes([p.path for p in photos], _fairness_models, _fairness_file, settings, track,
                            "fairness", workers))
    return report(photos, results, settings, bad_names, seed)


def report(photos: list[Labelled], results: list[Outcome | ItemError], settings: Settings,
           bad_names: list[str], seed: int = 0) -> dict[str, Any]:
    """The fairness report of ``photos`` and what the pipeline made of each (:func:`evaluate_fairness`'s dict)."""
    skipped = [{"image": str(p.path), "error": r.message} for p, r in zip(photos, results, strict=True)
               if isinstance(r, ItemError)]
    done = [(p, r) for p, r in zip(photos, results, strict=True) if isinstance(r, Outcome)]
    thresholds = {"gallery": settings.gallery_threshold, "match": settings.match_threshold}
    result: dict[str, Any] = {
        "models": {"detector": settings.detector, "age": settings.age_model, "gender": settings.gender_model,
                   "embedder": f"{EMBEDDING_MODEL} ({settings.embedder})"},
        "trained_on_utkface": trained_on_utkface([settings.age_model, settings.gender_model]),
        "n_files": len(photos) + len(bad_names),
        "bad_names": bad_names,
        "skipped": skipped,
        "thresholds": thresholds,
    }
    if not done:
        raise InvalidInputError("no UTKFace-named file could be read: " + "; ".join(
            f"{s['image']}: {s['error']}" for s in skipped[:3]))
    return result | summarize(
        true_age=np.array([p.age for p, _ in done], dtype=np.float64),
        predicted_age=np.array([r.age for _, r in done], dtype=np.float64),
        gender_right=np.array([r.gender == GENDERS[p.gender] for p, r in done]),
        groups=[p.group for p, _ in done],
        ethnicities=[ETHNICITIES[p.ethnicity] for p, _ in done],
        embeddings=[r.embedding for _, r in done],
        thresholds=thresholds, seed=seed,
    )


def trained_on_utkface(names: list[str]) -> list[str]:
    """The models among ``names`` whose registry entry says they were trained on UTKFace: on UTKFace photos
    their figures are in-sample, not a clean test."""
    found = []
    for name in names:
        try:
            licence = get_spec(name).licence
        except UnknownNameError:
            continue
        if "trained on utkface" in licence.lower():  # not "trained on X, not UTKFace"
            found.append(name)
    return found


_FairnessModels = tuple[AgeGenderModels, FaceEmbeddings]


def _fairness_models(settings: Settings) -> _FairnessModels:
    """The detector, aligner and embedder (as the gallery uses them) and the age and gender models, loaded."""
    embeddings = FaceEmbeddings.loaded(settings)
    _, age_model, gender_model = age_gender_models(settings, detect=False)
    return (embeddings.detector, age_model, gender_model), embeddings


def _fairness_file(models: _FairnessModels, path: Path) -> Outcome:
    """One photo through the pipeline: its largest face's age, gender and embedding."""
    age_gender, embeddings = models
    image = load_image(path, max_pixels=embeddings.settings.max_pixels)
    face = embeddings.detector.detect(image).largest()
    age, gender, whole = face_age_gender(age_gender, image, face)
    return Outcome(age, gender, None if whole else embeddings.embedding(image, face).astype(np.float32))
