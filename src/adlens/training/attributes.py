"""Training examples of the eyewear / beard / hat head: labelled faces and synthetic ones, as feature rows.

Every example goes through the run-time path: YuNet's largest face, the
:data:`~adlens.attributes.face_attributes.ATTRIBUTE_CROP` crop and
:func:`~adlens.attributes.face_attributes.attribute_features`. Besides the labelled faces there
are synthetic ones: sunglasses put on a face labelled eyewear = 0 make an eyewear = 1
example, a cap put on a face labelled hat = 0 a hat = 1 example, the other labels kept.
Each synthetic example remembers the face it was made from (``source``), and its random
draws depend only on the seed and that face, so cross-validation can leave out exactly
the synthetic examples of its test faces (:mod:`adlens.training.validation`): the result is
the same as generating them from the training folds only, and synthetic examples are never scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from adlens.align import crop_faces
from adlens.attributes.face_attributes import ATTRIBUTE_CROP, FACE_ATTRIBUTES, FEATURES, attribute_features
from adlens.backbone import open_feature_map_backbone
from adlens.evaluation.attributes import read_attribute_labels
from adlens.evaluation.common import Track
from adlens.faces import Faces
from adlens.imageio import load_image
from adlens.pipeline import analyzer_for
from adlens.settings import Settings
from adlens.training.synthetic import Accessory, Kind, jpeg_roundtrip, place_cap, place_glasses

#: The label each accessory kind sets to 1.
KIND_LABEL: dict[Kind, int] = {"sunglasses": FACE_ATTRIBUTES.index("eyewear"), "cap": FACE_ATTRIBUTES.index("hat")}
_KIND_IDS: dict[Kind, int] = {"sunglasses": 1, "cap": 2}
_BATCH = 64
T = TypeVar("T")


def untracked(items: Iterable[T], description: str = "", total: int = 0) -> Iterable[T]:
    """The default ``track``: no progress shown."""
    return items


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
    """A photo with its labels in :data:`FACE_ATTRIBUTES` order (NaN: unsure, left out)."""

    path: Path
    labels: tuple[float, float, float]


def read_labelled_images(folder: Path) -> list[LabelledImage]:
    """The ``images/`` of a folder with a ``labels.csv`` (``file,eyewear,beard,hat``; empty = unsure)."""
    images = []
    for name, row in sorted(read_attribute_labels(folder / "labels.csv").items()):
        eyewear, beard, hat = (np.nan if (value := row[a]) is None else float(value) for a in FACE_ATTRIBUTES)
        images.append(LabelledImage(folder / "images" / name, (eyewear, beard, hat)))
    return images


def extra_faces(folder: Path) -> list[LabelledImage]:
    """The :data:`EXTRA_FACES` found in ``folder`` (a copy of ``faces_small``)."""
    return [LabelledImage(folder / name, labels) for name, labels in EXTRA_FACES.items() if (folder / name).is_file()]


@dataclass
class Examples:
    """Training rows, parallel arrays.

    Attributes:
        features: ``(n, 2048)`` float32 features of each row's crop.
        labels: ``(n, 3)`` float32 0, 1 or NaN (unsure) in :data:`FACE_ATTRIBUTES` order.
        source: ``(n,)`` index of the labelled image the row was made from; -1 for extra faces,
            which are only ever trained on.
        kind: ``(n,)`` "real", "extra", "sunglasses" or "cap".
        mirrored: ``(n,)`` the crop was flipped left to right (training only).
    """

    features: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    kind: np.ndarray
    mirrored: np.ndarray

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, rows: np.ndarray) -> Examples:
        return Examples(self.features[rows], self.labels[rows], self.source[rows], self.kind[rows], self.mirrored[rows])

    @property
    def synthetic(self) -> np.ndarray:
        """Boolean mask of the synthetic rows."""
        return np.isin(self.kind, list(KIND_LABEL))

    def counts(self) -> dict[str, int]:
        """Rows per kind, mirrored copies left out."""
        kinds = self.kind[~self.mirrored]
        return {kind: int((kinds == kind).sum()) for kind in ("real", "extra", *KIND_LABEL)}


class FaceFeaturizer:
    """The run-time path from a photo to attribute features: largest face → ATTRIBUTE_CROP → MobileNetV1's feature map."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.analyzer = analyzer_for(settings, embed=False, attributes=[])
        self.backbone = open_feature_map_backbone(ATTRIBUTE_CROP.size, self.analyzer.settings)

    def faces(self, image: np.ndarray) -> Faces:
        """Every face the pipeline's detector finds in a BGR image."""
        return self.analyzer.analyze_array(image)

    def largest_face(self, image: np.ndarray) -> Faces:
        """The image's largest detected face (empty when there is none), the one a labelled photo's labels describe."""
        return self.faces(image).largest()

    def crop(self, image: np.ndarray, face: Faces) -> np.ndarray:
        """The ATTRIBUTE_CROP (128, 128, 3) RGB crop of one face."""
        return crop_faces(image, face, ATTRIBUTE_CROP)[0]

    def features(self, crops: np.ndarray) -> np.ndarray:
        """Features ``(n, 2048)`` of a batch of crops."""
        return attribute_features(self.backbone, crops)


def synthetic_count(rng: np.random.Generator, per_face: float) -> int:
    """``per_face`` rounded at random to a neighbouring integer, so a fraction is kept on average."""
    whole = int(np.floor(per_face))
    return whole + int(rng.random() < per_face - whole)


def build_examples(
    images: Sequence[LabelledImage],
    accessories: dict[Kind, list[Accessory]],
    featurizer: FaceFeaturizer,
    *,
    seed: int = 0,
    synthetic_per_face: float = 1.0,
    extra: Sequence[LabelledImage] = (),
    mirror: bool = True,
    track: Track = untracked,
) -> tuple[Examples, dict[str, int]]:
    """Real and synthetic examples of ``images`` (and of ``extra`` faces, used only for training).

    Each face whose label for an accessory kind is 0 gets ``synthetic_per_face`` examples of that
    kind on average; with ``mirror`` every row also gets a left-right flipped copy. Photos and
    synthetic images without a detected face are left out and counted.
    """
    rows: list[tuple[np.ndarray, int, str, bool]] = []
    crops: list[np.ndarray] = []
    features: list[np.ndarray] = []
    counts = {"no_face": 0, "synthetic_no_face": 0}
    items = [(i, item, "real") for i, item in enumerate(images)]
    items += [(j, item, "extra") for j, item in enumerate(extra)]
    for index, item, kind in track(items, "faces and synthetic faces", len(items)):
        image = load_image(item.path)
        face = featurizer.largest_face(image)
        if not len(face):
            counts["no_face"] += 1
            continue
        truth = np.asarray(item.labels, np.float32)
        rng_key = [seed, int(kind == "extra"), index]  # this face's own random streams
        synthetic = _synthetic(image, face, truth, accessories, featurizer, rng_key, synthetic_per_face, counts)
        for picture, found, labels, what in [(image, face, truth, kind), *synthetic]:
            crop = featurizer.crop(picture, found)
            for flipped in (False, True) if mirror else (False,):
                crops.append(crop[:, ::-1] if flipped else crop)
                rows.append((labels, index if kind == "real" else -1, what, flipped))
        if len(crops) >= _BATCH:  # features as we go: thousands of crops would take gigabytes
            features.append(featurizer.features(np.stack(crops)))
            crops.clear()
    if crops:
        features.append(featurizer.features(np.stack(crops)))
    examples = Examples(
        np.concatenate(features) if features else np.zeros((0, FEATURES), np.float32),
        np.array([r[0] for r in rows], np.float32).reshape(-1, len(FACE_ATTRIBUTES)),
        np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], dtype=object),
        np.array([r[3] for r in rows], dtype=bool),
    )
    return examples, counts


def _synthetic(
    image: np.ndarray, face: Faces, truth: np.ndarray, accessories: dict[Kind, list[Accessory]],
    featurizer: FaceFeaturizer, rng_key: list[int], per_face: float, counts: dict[str, int],
) -> Iterator[tuple[np.ndarray, Faces, np.ndarray, str]]:
    """The synthetic images of one face, each with its re-detected face and its labels."""
    for kind, pool in accessories.items():
        column = KIND_LABEL[kind]
        if truth[column] != 0 or not pool:
            continue
        rng = np.random.default_rng([*rng_key, _KIND_IDS[kind]])
        for _ in range(synthetic_count(rng, per_face)):
            accessory = pool[int(rng.integers(len(pool)))]
            if kind == "sunglasses":
                picture = place_glasses(image, face.landmarks[0], accessory, rng)
            else:
                picture = place_cap(image, face.landmarks[0], face.boxes[0], accessory, rng)
            picture = jpeg_roundtrip(picture, rng)
            found = same_face(featurizer.faces(picture), face.boxes[0])
            if not len(found):
                counts["synthetic_no_face"] += 1
                continue
            labels = truth.copy()
            labels[column] = 1.0
            yield picture, found, labels, kind


def same_face(faces: Faces, box: np.ndarray, min_iou: float = 0.5) -> Faces:
    """The face of ``faces`` that overlaps ``box`` most (IoU ≥ ``min_iou``), else none.

    An accessory can change which face of a group photo is the largest, so a synthetic
    image's face is found again by place, not by size.
    """
    if not len(faces):
        return faces
    x, y, w, h = (float(v) for v in box)
    left, top = np.maximum(faces.boxes[:, 0], x), np.maximum(faces.boxes[:, 1], y)
    right = np.minimum(faces.boxes[:, 0] + faces.boxes[:, 2], x + w)
    bottom = np.minimum(faces.boxes[:, 1] + faces.boxes[:, 3], y + h)
    overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    iou = overlap / (faces.areas + w * h - overlap)
    best = int(np.argmax(iou))
    return faces[best] if iou[best] >= min_iou else faces[np.zeros(len(faces), bool)]
