"""Synthetic training faces: sunglasses and caps from product photos placed on faces by their landmarks.

A product photo is cut off its white background (:func:`~adlens.products.colours.foreground_mask`,
eroded by a pixel and blurred into a soft alpha) and cropped to the product. Placing it
scales it to the face (eye distance for glasses, face width for caps), turns it with the
eye line, moves it a little, shifts its brightness, saturation and hue, flips it at random
and alpha-blends it onto the image. Every random choice comes from the
:class:`numpy.random.Generator` passed in, so one seed gives the same images on every run.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from adlens.imageio import load_image
from adlens.products.colours import foreground_mask

Kind = Literal["sunglasses", "cap"]

#: The catalogue's ``articleType`` of each accessory kind.
ARTICLE_TYPES: dict[Kind, str] = {"sunglasses": "Sunglasses", "cap": "Caps"}

#: Product names with these words are left out: a bandana or headband is not a hat in the labels.
EXCLUDED_WORDS = ("bandana", "headband")
#: Height/width bounds of a usable cut-out (a photo of folded glasses or a cap seen from above is not).
_ASPECT_BOUNDS: dict[Kind, tuple[float, float]] = {"sunglasses": (0.2, 0.7), "cap": (0.25, 1.4)}
_WHITE = 238  # darkest channel at or above this: the photo's white background
_MAX_COVER = 0.9  # a mask covering more of the photo than this is foreground_mask's "no background found"


@dataclass(frozen=True)
class Accessory:
    """A product cut off its background: ``bgr`` (h, w, 3) uint8 and ``alpha`` (h, w) float32 in [0, 1]."""

    kind: Kind
    product_id: str
    bgr: np.ndarray
    alpha: np.ndarray

    @property
    def aspect(self) -> float:
        """Height over width of the cut-out."""
        return self.bgr.shape[0] / self.bgr.shape[1]


def cut_out(bgr: np.ndarray, kind: Kind, product_id: str = "") -> Accessory | None:
    """The product of a photo on a plain background, cropped to its mask; ``None`` when no background is found."""
    mask = foreground_mask(bgr)
    if not mask.any() or mask.mean() > _MAX_COVER:
        return None
    # foreground_mask keeps background enclosed by thin frames and temples (and a halo along
    # them); for a cut-out, near-white pixels are background wherever they are.
    mask &= bgr.min(axis=2) < _WHITE
    kernel = np.ones((3, 3), np.uint8)
    mask8 = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel)  # pinholes in white products
    mask8 = cv2.erode(mask8, kernel)  # the anti-aliased rim mixes with the background
    alpha = cv2.GaussianBlur(mask8.astype(np.float32), (5, 5), 1.0)
    rows, cols = np.nonzero(mask8)
    if len(rows) == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    return Accessory(kind, product_id, bgr[top:bottom, left:right].copy(), alpha[top:bottom, left:right].copy())


def load_accessories(products: Path, kind: Kind) -> list[Accessory]:
    """Cut-outs of every photo of ``kind`` in a catalogue folder, in id order.

    The folder holds ``styles.csv`` (``id``, ``articleType``), ``styles_text.csv``
    (``productDisplayName``, same row order; optional) and ``images/<id>.jpg``.
    """
    low, high = _ASPECT_BOUNDS[kind]
    accessories = []
    for product_id in _product_ids(products, ARTICLE_TYPES[kind]):
        path = products / "images" / f"{product_id}.jpg"
        if not path.is_file():
            continue
        accessory = cut_out(load_image(path), kind, product_id)
        if accessory is not None and low <= accessory.aspect <= high:
            accessories.append(accessory)
    return accessories


def _product_ids(products: Path, article_type: str) -> list[str]:
    """Ids of ``article_type`` in the catalogue, without the :data:`EXCLUDED_WORDS` products, sorted."""
    with (products / "styles.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names: list[str] = [""] * len(rows)
    text = products / "styles_text.csv"
    if text.is_file():
        with text.open(encoding="utf-8", newline="") as handle:
            names = [r.get("productDisplayName") or "" for r in csv.DictReader(handle)]
    ids = [
        row["id"]
        for row, name in zip(rows, names, strict=False)
        if row.get("articleType") == article_type and not any(w in name.lower() for w in EXCLUDED_WORDS)
    ]
    return sorted(ids, key=int)


def place_glasses(
    image: np.ndarray, landmarks: np.ndarray, accessory: Accessory, rng: np.random.Generator
) -> np.ndarray:
    """``image`` (BGR uint8) with ``accessory`` worn over the eyes of the face with these 5 landmarks.

    The glasses are 2.1–2.5 eye distances wide, turned with the eye line (±5°) and centred
    0–0.15 eye distances below the midpoint of the eyes (±0.05 sideways).
    """
    eyes = np.asarray(landmarks, np.float64)[:2]
    across = eyes[1] - eyes[0]
    eye_distance = max(float(np.hypot(*across)), 1.0)
    angle = math.degrees(math.atan2(across[1], across[0])) + rng.uniform(-5.0, 5.0)
    down = np.array([-across[1], across[0]]) / eye_distance
    centre = eyes.mean(axis=0) + down * eye_distance * rng.uniform(0.0, 0.15)
    centre += across * rng.uniform(-0.05, 0.05)
    width = eye_distance * rng.uniform(2.1, 2.5)
    return _paste(image, accessory, rng, width, angle, centre, anchor=(0.5, 0.5))


def place_cap(
    image: np.ndarray, landmarks: np.ndarray, box: np.ndarray, accessory: Accessory, rng: np.random.Generator
) -> np.ndarray:
    """``image`` (BGR uint8) with ``accessory`` worn on the head of the face with this box and these landmarks.

    The cap is 1.1–1.4 face widths wide, turned with the eye line (±5°), and its lower edge
    lies on the eyebrows or above them: 0.2–0.5 eye-to-mouth distances above the eyes' midpoint.
    """
    points = np.asarray(landmarks, np.float64)
    across = points[1] - points[0]
    angle = math.degrees(math.atan2(across[1], across[0])) + rng.uniform(-5.0, 5.0)
    eye_centre, mouth_centre = points[:2].mean(axis=0), points[3:5].mean(axis=0)
    eye_to_mouth = max(float(np.hypot(*(mouth_centre - eye_centre))), 1.0)
    up = (eye_centre - mouth_centre) / eye_to_mouth
    anchor = eye_centre + up * eye_to_mouth * rng.uniform(0.2, 0.5)
    anchor += (across / max(float(np.hypot(*across)), 1.0)) * eye_to_mouth * rng.uniform(-0.08, 0.08)
    width = float(np.asarray(box, np.float64)[2]) * rng.uniform(1.1, 1.4)
    return _paste(image, accessory, rng, width, angle, anchor, anchor=(0.5, 1.0))


def jitter_colour(bgr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``bgr`` with its hue turned by up to ±12°, saturation ×0.8–1.2 and brightness ×0.7–1.15."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6.0, 6.0)) % 180.0  # OpenCV hue is 0–180
    hsv[..., 1] *= rng.uniform(0.8, 1.2)
    hsv[..., 2] *= rng.uniform(0.7, 1.15)
    return cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR)


def _paste(
    image: np.ndarray,
    accessory: Accessory,
    rng: np.random.Generator,
    width: float,
    angle: float,
    target: np.ndarray,
    anchor: tuple[float, float],
) -> np.ndarray:
    """Blend ``accessory``, ``width`` pixels wide and turned by ``angle`` degrees, with its point ``anchor``
    (fractions of its width and height) on ``target``."""
    bgr, alpha = accessory.bgr, accessory.alpha
    if rng.random() < 0.5:
        bgr, alpha = bgr[:, ::-1], alpha[:, ::-1]
    scale = max(width, 2.0) / bgr.shape[1]
    size = (max(2, round(bgr.shape[1] * scale)), max(2, round(bgr.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    bgr = jitter_colour(cv2.resize(np.ascontiguousarray(bgr), size, interpolation=interpolation), rng)
    alpha = cv2.resize(np.ascontiguousarray(alpha), size, interpolation=interpolation)
    pivot = (anchor[0] * size[0], anchor[1] * size[1])
    # OpenCV's positive angle turns counter-clockwise on screen; the eye line's angle is clockwise.
    matrix = cv2.getRotationMatrix2D(pivot, -angle, 1.0)
    matrix[:, 2] += np.asarray(target, np.float64) - np.asarray(pivot)
    height, width_px = image.shape[:2]
    layer = cv2.warpAffine(bgr, matrix, (width_px, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    cover = cv2.warpAffine(alpha, matrix, (width_px, height), flags=cv2.INTER_LINEAR, borderValue=0.0)
    cover = np.clip(cover, 0.0, 1.0)[..., None]
    blended = image.astype(np.float32) * (1.0 - cover) + layer.astype(np.float32) * cover
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def jpeg_roundtrip(image: np.ndarray, rng: np.random.Generator, quality: tuple[int, int] = (75, 95)) -> np.ndarray:
    """``image`` saved and read back as JPEG at a random quality, so pasted edges get the artefacts real photos have."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*quality, endpoint=True))])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    return image if decoded is None else decoded
