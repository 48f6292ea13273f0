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
from adlens.attributes.face_attributes import ATTRIBUTE_CROP, BACKBONE, FACE_ATTRIBUTES, FEATURES, attribute_features
from adlens.backbone import FEATURE_MAP_VERSION, open_feature_map_backbone
from adlens.evaluation.common import Track
from adlens.faces import Faces
from adlens.imageio import load_image
from adlens.pipeline import analyzer_for
from adlens.settings import Settings
from adlens.training.cache import FaceRows, FeatureCache
from adlens.training.labelled import LabelledImage
from adlens.training.synthetic import Accessory, Kind, jpeg_roundtrip, place_cap, place_glasses

#: The label each accessory kind sets to 1.
KIND_LABEL: dict[Kind, int] = {"sunglasses": FACE_ATTRIBUTES.index("eyewear"), "cap": FACE_ATTRIBUTES.index("hat")}
_KIND_IDS: dict[Kind, int] = {"sunglasses": 1, "cap": 2}
_BATCH = 64
T = TypeVar("T")


def untracked(items: Iterable[T], description: str = "", total: int = 0) -> Iterable[T]:
    """The default ``track``: no progress shown."""
    return items


@dataclass
class Examples:
    """Training rows, parallel arrays.

    Attributes:
        features: ``(n, FEATURES)`` float32 features of each row's crop.
        labels: ``(n, 3)`` float32 0, 1 or NaN (unsure) in :data:`FACE_ATTRIBUTES` order.
        source: ``(n,)`` index of the labelled image the row was made from; -1 for extra faces,
            which are only ever trained on.
        kind: ``(n,)`` "real", "extra", "sunglasses" or "cap".
        mirrored: ``(n,)`` the crop was flipped left to right (training only).
        dataset: ``(n,)`` the data set of the face the row was made from ("extra" for extra faces).
        male: ``(n,)`` that face's perceived-gender label (1, 0, NaN: none).
    """

    features: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    kind: np.ndarray
    mirrored: np.ndarray
    dataset: np.ndarray
    male: np.ndarray

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, rows: np.ndarray) -> Examples:
        return Examples(self.features[rows], self.labels[rows], self.source[rows], self.kind[rows],
                        self.mirrored[rows], self.dataset[rows], self.male[rows])

    @property
    def synthetic(self) -> np.ndarray:
        """Boolean mask of the synthetic rows."""
        return np.isin(self.kind, list(KIND_LABEL))

    def counts(self) -> dict[str, int]:
        """Rows per kind, mirrored copies left out."""
        kinds = self.kind[~self.mirrored]
        return {kind: int((kinds == kind).sum()) for kind in ("real", "extra", *KIND_LABEL)}

    def datasets(self) -> list[str]:
        """The labelled data sets, in order of appearance (extra faces left out)."""
        real = self.dataset[self.kind == "real"]
        return list(dict.fromkeys(real.tolist()))


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
        """Features ``(n, FEATURES)`` of a batch of crops."""
        return attribute_features(self.backbone, crops)

    def config(self) -> str:
        """What decides the features, for :class:`~adlens.training.cache.FeatureCache`."""
        s = self.analyzer.settings
        return (f"{ATTRIBUTE_CROP}|{BACKBONE}.v{FEATURE_MAP_VERSION}|{FEATURES}|{s.detector}|"
                f"{s.detector_score_threshold:g}|"
                f"{s.detector_nms_threshold:g}|{s.detector_max_side}|{s.max_pixels}")


def synthetic_count(rng: np.random.Generator, per_face: float) -> int:
    """``per_face`` rounded at random to a neighbouring integer, so a fraction is kept on average."""
    whole = int(np.floor(per_face))
    return whole + int(rng.random() < per_face - whole)


@dataclass
class _Pending:
    """One face's rows while its crops wait for the backbone."""

    item: LabelledImage
    key: str
    crops: list[np.ndarray]
    kind: list[str]
    mirrored: list[bool]
    no_face: int = 0
    synthetic_no_face: int = 0
    rows: FaceRows | None = None


def build_examples(
    images: Sequence[LabelledImage],
    accessories: dict[Kind, list[Accessory]],
    featurizer: FaceFeaturizer,
    *,
    seed: int = 0,
    synthetic_per_face: float = 1.0,
    extra: Sequence[LabelledImage] = (),
    mirror: bool = True,
    cache: Path | None = None,
    track: Track = untracked,
) -> tuple[Examples, dict[str, int]]:
    """Real and synthetic examples of ``images`` (and of ``extra`` faces, used only for training).

    Each face whose label for an accessory kind is 0 gets ``synthetic_per_face`` examples of that
    kind on average (faces whose ``synthetic`` is false get none); with ``mirror`` every row also
    gets a left-right flipped copy. Photos and synthetic images without a detected face are left
    out and counted. With ``cache`` (a folder) each face's rows are kept there and read back by a rerun.
    """
    recipe = f"{featurizer.config()}|mirror={mirror}|seed={seed}|per_face={synthetic_per_face:g}|" + "|".join(
        f"{kind}:{len(pool)}:{pool[0].product_id if pool else ''}" for kind, pool in sorted(accessories.items()))
    store = FeatureCache(cache, recipe) if cache is not None else None
    faces: list[tuple[LabelledImage, int, str, FaceRows | _Pending]] = []
    waiting: list[_Pending] = []
    items = [(i, item, "real") for i, item in enumerate(images)]
    items += [(j, item, "extra") for j, item in enumerate(extra)]
    for index, item, kind in track(items, "faces and synthetic faces", len(items)):
        key = f"{kind}|{index}|{item.labels}|{item.synthetic}"
        cached = store.get(item.path, key) if store else None
        if cached is not None:
            faces.append((item, index, kind, cached))
            continue
        pending = _face_crops(item, index, kind, key, accessories if item.synthetic else {}, featurizer, seed,
                              synthetic_per_face, mirror)
        waiting.append(pending)
        faces.append((item, index, kind, pending))
        if sum(len(p.crops) for p in waiting) >= _BATCH:  # features as we go: thousands of crops would take gigabytes
            _featurize(waiting, featurizer, store)
    _featurize(waiting, featurizer, store)
    return _assemble(faces)


def _face_crops(
    item: LabelledImage, index: int, kind: str, key: str, accessories: dict[Kind, list[Accessory]],
    featurizer: FaceFeaturizer, seed: int, per_face: float, mirror: bool,
) -> _Pending:
    """The crops of one labelled face and of its synthetic copies."""
    pending = _Pending(item, key, [], [], [])
    image = load_image(item.path)
    face = featurizer.largest_face(image)
    if not len(face):
        pending.no_face = 1
        return pending
    truth = np.asarray(item.labels, np.float32)
    rng_key = [seed, int(kind == "extra"), index]  # this face's own random streams
    counts = {"synthetic_no_face": 0}
    synthetic = list(_synthetic(image, face, truth, accessories, featurizer, rng_key, per_face, counts))
    pending.synthetic_no_face = counts["synthetic_no_face"]
    for picture, found, _labels, what in [(image, face, truth, kind), *synthetic]:
        crop = featurizer.crop(picture, found)
        for flipped in (False, True) if mirror else (False,):
            pending.crops.append(crop[:, ::-1] if flipped else crop)
            pending.kind.append(what)
            pending.mirrored.append(flipped)
    return pending


def _featurize(waiting: list[_Pending], featurizer: FaceFeaturizer, store: FeatureCache | None) -> None:
    """Run the backbone on every waiting crop; each face's rows go to the cache; ``waiting`` is emptied."""
    crops = [crop for pending in waiting for crop in pending.crops]
    features = featurizer.features(np.stack(crops)) if crops else np.zeros((0, FEATURES), np.float32)
    start = 0
    for pending in waiting:
        rows = FaceRows(features[start:start + len(pending.crops)], np.array(pending.kind, dtype=object),
                        np.array(pending.mirrored, dtype=bool), pending.no_face, pending.synthetic_no_face)
        start += len(pending.crops)
        pending.rows, pending.crops = rows, []
        if store is not None:
            store.put(pending.item.path, pending.key, rows)
    waiting.clear()


def _assemble(faces: list[tuple[LabelledImage, int, str, FaceRows | _Pending]]) -> tuple[Examples, dict[str, int]]:
    counts = {"no_face": 0, "synthetic_no_face": 0}
    parts: list[Examples] = []
    for item, index, kind, found in faces:
        rows = found if isinstance(found, FaceRows) else found.rows
        assert rows is not None, "every waiting face is featurized before the rows are assembled"
        counts["no_face"] += rows.no_face
        counts["synthetic_no_face"] += rows.synthetic_no_face
        n = len(rows.features)
        labels = np.tile(np.asarray(item.labels, np.float32), (n, 1))
        for row, what in enumerate(rows.kind):
            if what in KIND_LABEL:
                labels[row, KIND_LABEL[what]] = 1.0
        parts.append(Examples(
            rows.features.astype(np.float32).reshape(n, FEATURES), labels,
            np.full(n, index if kind == "real" else -1, np.int64), rows.kind.astype(object), rows.mirrored,
            np.full(n, item.dataset, dtype=object), np.full(n, item.male, np.float32),
        ))
    if not parts:
        empty = np.zeros(0)
        return Examples(np.zeros((0, FEATURES), np.float32), np.zeros((0, len(FACE_ATTRIBUTES)), np.float32),
                        empty.astype(np.int64), empty.astype(object), empty.astype(bool), empty.astype(object),
                        empty.astype(np.float32)), counts
    return Examples(*(np.concatenate([getattr(p, f) for p in parts]) for f in (
        "features", "labels", "source", "kind", "mirrored", "dataset", "male"))), counts


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
