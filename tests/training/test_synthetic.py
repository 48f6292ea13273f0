"""Tests for adlens.training.synthetic: cut-outs of product photos, placement by landmarks, determinism."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from adlens.imageio import load_image
from adlens.training.synthetic import Accessory, cut_out, jpeg_roundtrip, load_accessories, place_cap, place_glasses
from helpers import DATA, MODELS, need

PRODUCTS = DATA / "fashion_products_subset"
FACES = DATA / "face_attributes_utk"
SUNGLASSES_ID, CAP_ID, BANDANA_ID = "16863", "18208", "17950"


@pytest.fixture(scope="module")
def face() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real UTKFace chip labelled eyewear = 0 and hat = 0, with its largest face's landmarks and box."""
    need(MODELS)
    from adlens.pipeline import Analyzer

    with (need(FACES) / "labels.csv").open(newline="") as handle:
        name = next(r["file"] for r in csv.DictReader(handle) if r["eyewear"] == "0" and r["hat"] == "0")
    image = load_image(FACES / "images" / name)
    found = Analyzer(attributes=[]).load().analyze_array(image).largest()
    return image, found.landmarks[0], found.boxes[0]


@pytest.fixture(scope="module")
def accessories() -> dict[str, Accessory]:
    found = {}
    for kind, product in (("sunglasses", SUNGLASSES_ID), ("cap", CAP_ID)):
        accessory = cut_out(load_image(need(PRODUCTS / "images" / f"{product}.jpg")), kind, product)
        assert accessory is not None
        found[kind] = accessory
    return found


def place(kind: str, face, accessory: Accessory, seed: int) -> np.ndarray:
    image, landmarks, box = face
    rng = np.random.default_rng(seed)
    return place_glasses(image, landmarks, accessory, rng) if kind == "sunglasses" else place_cap(
        image, landmarks, box, accessory, rng)


def changed_pixels(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the pixels the accessory visibly changed."""
    return np.nonzero(np.abs(after.astype(int) - before.astype(int)).max(axis=2) > 40)


@pytest.mark.parametrize("kind", ["sunglasses", "cap"])
def test_cut_out_is_tight_with_soft_alpha(kind, accessories):
    accessory = accessories[kind]
    assert accessory.bgr.dtype == np.uint8 and accessory.bgr.shape[:2] == accessory.alpha.shape
    assert accessory.alpha.dtype == np.float32
    assert 0.0 <= accessory.alpha.min() and accessory.alpha.max() <= 1.0 and accessory.alpha.max() > 0.99
    assert 0.05 < np.mean((accessory.alpha > 0) & (accessory.alpha < 1)) < 0.5  # soft edges, solid inside
    assert accessory.bgr.shape[1] < 224  # cropped to the product


@pytest.mark.parametrize("kind", ["sunglasses", "cap"])
def test_output_is_a_changed_copy(kind, face, accessories):
    placed = place(kind, face, accessories[kind], 0)
    assert placed.shape == face[0].shape and placed.dtype == np.uint8
    assert not np.array_equal(placed, face[0])
    assert face[0] is not placed


def test_glasses_land_on_the_eyes(face, accessories):
    image, landmarks, _ = face
    rows, cols = changed_pixels(image, place("sunglasses", face, accessories["sunglasses"], 0))
    eyes = landmarks[:2]
    distance = float(np.linalg.norm(eyes[1] - eyes[0]))
    middle = eyes.mean(axis=0)
    assert len(rows) > distance**2 * 0.5
    assert abs(np.median(rows) - middle[1]) < 0.4 * distance
    assert abs(np.median(cols) - middle[0]) < 0.4 * distance
    near = (np.abs(rows - middle[1]) < 0.8 * distance) & (np.abs(cols - middle[0]) < 1.5 * distance)
    assert near.mean() > 0.95
    assert rows.max() < landmarks[3:5, 1].min()  # nothing on the mouth


def test_cap_lands_above_the_brows(face, accessories):
    image, landmarks, _ = face
    rows, cols = changed_pixels(image, place("cap", face, accessories["cap"], 0))
    eye_line = landmarks[:2, 1].mean()
    eye_to_mouth = landmarks[3:5, 1].mean() - eye_line
    assert len(rows) > 200
    assert np.mean(rows < eye_line - 0.1 * eye_to_mouth) > 0.95
    assert abs(np.median(cols) - landmarks[:2, 0].mean()) < eye_to_mouth


@pytest.mark.parametrize("kind", ["sunglasses", "cap"])
def test_same_seed_same_image_other_seed_other_image(kind, face, accessories):
    first, again, other = (place(kind, face, accessories[kind], seed) for seed in (7, 7, 8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_jpeg_roundtrip_is_seeded(face):
    image = face[0]
    a, b = (jpeg_roundtrip(image, np.random.default_rng(3)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert a.shape == image.shape and np.abs(a.astype(int) - image).mean() < 8


def test_load_accessories_filters_kind_and_bandanas(tmp_path: Path):
    need(PRODUCTS)
    (tmp_path / "images").mkdir()
    rows = [(BANDANA_ID, "Caps", "Nike Unisex Swoosh Black Bandana"), (CAP_ID, "Caps", "Manchester United Cap"),
            (SUNGLASSES_ID, "Sunglasses", "Some Sunglasses"), ("1", "Caps", "a cap without a photo")]
    (tmp_path / "styles.csv").write_text("id,articleType\n" + "".join(f"{i},{a}\n" for i, a, _ in rows))
    (tmp_path / "styles_text.csv").write_text("productDisplayName\n" + "".join(f"{n}\n" for *_, n in rows))
    for product, *_ in rows:
        if (PRODUCTS / "images" / f"{product}.jpg").is_file():
            (tmp_path / "images" / f"{product}.jpg").symlink_to(PRODUCTS / "images" / f"{product}.jpg")
    assert [a.product_id for a in load_accessories(tmp_path, "cap")] == [CAP_ID]
    assert [(a.kind, a.product_id) for a in load_accessories(tmp_path, "sunglasses")] == [("sunglasses", SUNGLASSES_ID)]


def test_plain_photo_has_no_cut_out():
    assert cut_out(np.full((50, 50, 3), 255, np.uint8), "cap") is None
