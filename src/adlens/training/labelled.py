"""Labelled faces for the attribute head: a folder's ``labels.csv`` and ``images/``, and the extra faces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adlens.attributes.face_attributes import FACE_ATTRIBUTES
from adlens.evaluation.attributes import read_attribute_labels, read_male_labels

_NONE = (0.0, 0.0, 0.0)
_BEARD = (0.0, 1.0, 0.0)
#: Faces of ``../shared/data/faces_small`` (file → labels of its largest face) whose labels are certain,
#: looked at one by one for adlens: nobody wears eyewear or a hat; Kit Harington and Alex Lacamoire
#: are bearded, Obama, Biden and Rose Leslie are not; Lin-Manuel Miranda's stubble is "unsure".
#: Copies of one photo at other sizes (obama-240p/480p/720p) are left out.
EXTRA_FACES: dict[str, tuple[float, float, float]] = {
    "32bit.png": _NONE, "lin-manuel-miranda.png": (0.0, np.nan, 0.0), "obama-1080p.jpg": _NONE,
    "obama3.jpg": _NONE, "obama_partial_face.jpg": _NONE, "test/alex_lacamoire1.jpg": _BEARD,
    "test/johnsnow_test1.jpg": _BEARD, "test/kit_with_rose.jpg": _BEARD, "test/obama1.jpg": _NONE,
    "test/obama_and_biden.jpg": _NONE, "train/alex_lacamoire/img1.jpg": _BEARD, "train/biden/biden.jpg": _NONE,
    "train/biden/biden2.jpg": _NONE, "train/obama/obama.jpg": _NONE, "train/obama/obama2.jpg": _NONE,
    "train/rose_leslie/img1.jpg": _NONE, "train/rose_leslie/img2.jpg": _NONE, "two_people.jpg": _NONE,
}


@dataclass(frozen=True)
class LabelledImage:
    """A photo with its labels in :data:`FACE_ATTRIBUTES` order (NaN: unsure, left out).

    ``dataset`` names the folder it came from (folds can keep data sets apart), ``male`` is
    the set's perceived-gender label where it has one (NaN otherwise; used only to measure
    false alarms of the beard on women), and ``synthetic`` says whether accessories may be put on it.
    """

    path: Path
    labels: tuple[float, float, float]
    dataset: str = ""
    male: float = np.nan
    synthetic: bool = True


def read_labelled_images(folder: Path, *, synthetic: bool = True) -> list[LabelledImage]:
    """The ``images/`` of a folder with a ``labels.csv`` (``file,eyewear,beard,hat[,male]``; empty = unsure)."""
    labels_csv = folder / "labels.csv"
    males = read_male_labels(labels_csv)
    images = []
    for name, row in sorted(read_attribute_labels(labels_csv).items()):
        eyewear, beard, hat = (np.nan if (value := row[a]) is None else float(value) for a in FACE_ATTRIBUTES)
        male = males.get(name)
        images.append(LabelledImage(folder / "images" / name, (eyewear, beard, hat), folder.name,
                                    np.nan if male is None else float(male), synthetic))
    return images


def extra_faces(folder: Path) -> list[LabelledImage]:
    """The :data:`EXTRA_FACES` found in ``folder`` (a copy of ``faces_small``)."""
    return [LabelledImage(folder / name, labels, "extra") for name, labels in EXTRA_FACES.items()
            if (folder / name).is_file()]
