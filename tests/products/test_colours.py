"""Tests for adlens.products.colours on synthetic product photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adlens.imageio import load_image
from adlens.products.colours import (
    COLOUR_NAMES,
    COLOURS,
    colour_histogram,
    colour_name,
    delta_e_2000,
    dominant_colours,
    foreground_mask,
    to_lab,
)

WHITE, LIGHT_GREY = (255, 255, 255), (200, 200, 200)
RED, NAVY, BLACK, OFF_WHITE_SHIRT = (200, 30, 40), (20, 30, 100), (30, 30, 30), (246, 246, 246)

# --------------------------------------------------------------------------- helpers


def photo(background: tuple[int, int, int], size: int = 224) -> np.ndarray:
    """A BGR canvas of one sRGB colour."""
    return np.full((size, size, 3), background[::-1], np.uint8)


def with_square(image: np.ndarray, colour: tuple[int, int, int], outline: int = 0) -> np.ndarray:
    """``image`` with a centred square of ``colour`` covering about a third of it."""
    out = image.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (w // 4, h // 4), (3 * w // 4, 3 * h // 4), colour[::-1], -1)
    if outline:
        cv2.rectangle(out, (w // 4, h // 4), (3 * w // 4, 3 * h // 4), (190, 190, 190), outline)
    return out


def with_shirt(image: np.ndarray, colour: tuple[int, int, int], outline: int = 0) -> np.ndarray:
    """``image`` with a T-shirt silhouette (body and sleeves), optionally with a grey outline."""
    out = image.copy()
    h, w = out.shape[:2]
    shape = np.array(
        [(0.35, 0.15), (0.65, 0.15), (0.9, 0.3), (0.8, 0.45), (0.7, 0.4), (0.7, 0.9), (0.3, 0.9),
         (0.3, 0.4), (0.2, 0.45), (0.1, 0.3)]
    ) * (w, h)
    cv2.fillPoly(out, [shape.astype(np.int32)], colour[::-1], lineType=cv2.LINE_AA)
    if outline:
        cv2.polylines(out, [shape.astype(np.int32)], True, (205, 205, 205), outline, lineType=cv2.LINE_AA)
    return out


def jpeg(image: np.ndarray, quality: int = 85) -> np.ndarray:
    """``image`` after a JPEG round trip (the artefacts real catalogue photos have)."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


# --------------------------------------------------------------------------- the palette


#: The fashion catalogue's ``baseColour`` values that are colours ("Multi" and "NA" are not).
BASE_COLOURS = (
    "Black", "White", "Blue", "Navy Blue", "Grey", "Red", "Brown", "Green", "Pink", "Purple", "Yellow",
    "Beige", "Orange", "Silver", "Gold", "Maroon", "Olive", "Cream", "Charcoal", "Khaki", "Teal", "Magenta",
    "Peach", "Lavender", "Turquoise Blue", "Mustard", "Off White", "Tan", "Copper", "Rust", "Burgundy",
    "Coffee Brown", "Mauve", "Sea Green", "Steel", "Lime Green", "Bronze", "Grey Melange", "Skin", "Nude",
    "Rose", "Taupe", "Fluorescent Green", "Metallic", "Mushroom Brown",
)


def test_palette_covers_the_catalogue_colours():
    assert {name.lower() for name in BASE_COLOURS} == set(COLOUR_NAMES)
    assert all(name == name.lower() for name in COLOUR_NAMES)
    assert all(len(shades) >= 1 and all(len(rgb) == 3 for rgb in shades) for shades in COLOURS.values())


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # pairs from Sharma, Wu and Dalal's CIEDE2000 test data
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, 3.1571, -77.2803), (50, 0, -82.7485), 2.8615),
        ((50, 0, 0), (50, -1, 2), 2.3669),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((50, 2.5, 0), (50, 3.1736, 0.5854), 1.0000),
        ((50, -0.001, 2.49), (50, 0.0011, -2.49), 4.7461),
    ],
)
def test_delta_e_2000_matches_published_pairs(lab1, lab2, expected):
    assert float(delta_e_2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected, abs=1e-4)


def test_delta_e_2000_matches_scikit_image():
    color = pytest.importorskip("skimage.color")
    rng = np.random.default_rng(0)
    a = rng.uniform([0, -100, -100], [100, 100, 100], (2000, 3))
    b = rng.uniform([0, -100, -100], [100, 100, 100], (2000, 3))
    b[:100] = a[:100]  # identical colours
    a[100:200, 1:] = 0  # achromatic ones
    np.testing.assert_allclose(delta_e_2000(a, b), color.deltaE_ciede2000(a, b), atol=1e-9)


def test_to_lab_of_white_and_black():
    lab = to_lab(np.array([[255, 255, 255], [0, 0, 0]], np.uint8))
    np.testing.assert_allclose(lab, [[100, 0, 0], [0, 0, 0]], atol=0.5)


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        (RED, "red"), ((255, 0, 0), "red"), (NAVY, "navy blue"), ((0, 0, 128), "navy blue"),
        ((0, 0, 255), "blue"), (BLACK, "black"), ((0, 0, 0), "black"), ((255, 255, 255), "white"),
        ((128, 128, 128), "grey"), ((245, 215, 40), "yellow"), ((255, 165, 0), "orange"),
        ((128, 0, 0), "maroon"), ((255, 0, 255), "magenta"), ((64, 224, 208), "turquoise blue"),
        ((0, 100, 0), "green"), ((128, 128, 0), "olive"), ((255, 192, 203), "pink"),
    ],
)
def test_colour_name(rgb, name):
    assert colour_name(rgb) == name


# --------------------------------------------------------------------------- dominant colours


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (with_square(photo(WHITE), RED), "red"),
        (with_square(photo(WHITE), NAVY), "navy blue"),
        (with_square(photo(WHITE), BLACK), "black"),
        (with_shirt(photo(LIGHT_GREY), WHITE), "white"),
        (with_shirt(photo(WHITE), OFF_WHITE_SHIRT, outline=2), "white"),  # white on white, faint outline
        (jpeg(with_shirt(photo(WHITE), RED)), "red"),
        (jpeg(with_shirt(photo(WHITE), NAVY)), "navy blue"),
        (jpeg(with_shirt(photo((235, 235, 235)), BLACK)), "black"),
        (photo(RED), "red"),  # a swatch filling the frame: everything looks like background
        (photo(WHITE), "white"),
        (photo(RED, size=1), "red"),
        (photo(NAVY, size=2), "navy blue"),
    ],
    ids=[
        "red-on-white", "navy-on-white", "black-on-white", "white-shirt-on-grey", "white-shirt-on-white",
        "red-shirt-jpeg", "navy-shirt-jpeg", "black-shirt-jpeg", "red-swatch", "all-white", "1x1", "2x2",
    ],
)
def test_dominant_colour(image, expected):
    colours = dominant_colours(image, k=4)
    assert next(iter(colours)) == expected, colours
    shares = list(colours.values())
    assert sum(shares) == pytest.approx(1.0)
    assert shares == sorted(shares, reverse=True)
    assert min(shares) >= 0.05


def test_background_is_left_out():
    image = with_square(photo(WHITE), RED)
    assert dominant_colours(image) == {"red": pytest.approx(1.0)}
    mask = foreground_mask(image)
    assert mask.dtype == bool and mask.shape == image.shape[:2]
    assert 0.2 < mask.mean() < 0.3  # the square covers a quarter of the photo
    assert mask[112, 112] and not mask[5, 5]


def test_two_coloured_product_keeps_both_shares():
    image = photo(WHITE)
    image[50:170, 40:112] = RED[::-1]
    image[50:170, 112:184] = NAVY[::-1]
    colours = dominant_colours(image)
    assert set(colours) == {"red", "navy blue"}
    assert colours["red"] == pytest.approx(0.5, abs=0.05)


def test_enclosed_white_stays_product():
    image = with_shirt(photo(WHITE), OFF_WHITE_SHIRT, outline=2)
    mask = foreground_mask(image)
    assert mask[150, 112], "the shirt's inside is product, not background"
    assert not mask[3, 3] and not mask[220, 220]


def test_all_background_falls_back_to_the_whole_image():
    assert foreground_mask(photo(WHITE)).all()
    assert foreground_mask(photo(RED, size=1)).all()


def test_deterministic():
    image = jpeg(with_shirt(photo(WHITE), (40, 120, 60)))
    assert dominant_colours(image) == dominant_colours(image)
    np.testing.assert_array_equal(colour_histogram(image), colour_histogram(image))


@pytest.mark.parametrize("k", [1, 2, 4, 12])
def test_k_bounds_the_number_of_names(k):
    image = photo(WHITE)
    for i, colour in enumerate([RED, NAVY, (245, 215, 40), (40, 120, 60)]):
        image[40 + 36 * i : 76 + 36 * i, 40:184] = colour[::-1]
    assert 1 <= len(dominant_colours(image, k)) <= k


def test_grey_and_alpha_inputs():
    grey = np.full((64, 64), 255, np.uint8)
    grey[16:48, 16:48] = 20
    assert next(iter(dominant_colours(grey))) == "black"
    rgba = np.zeros((64, 64, 4), np.uint8)  # transparent everywhere but a red square
    rgba[16:48, 16:48] = (*RED, 255)
    bgr = load_image(rgba, rgb_array=True)
    assert next(iter(dominant_colours(bgr))) == "red"
    assert next(iter(dominant_colours(rgba[..., [2, 1, 0, 3]]))) == "red"


def test_colour_histogram():
    histogram = colour_histogram(with_square(photo(WHITE), RED))
    assert histogram.shape == (len(COLOUR_NAMES),) and histogram.dtype == np.float32
    assert histogram.sum() == pytest.approx(1.0, abs=1e-5) and (histogram >= 0).all()
    assert COLOUR_NAMES[int(np.argmax(histogram))] == "red"
    navy = colour_histogram(with_square(photo(WHITE), NAVY))
    black = colour_histogram(with_square(photo(WHITE), BLACK))
    # Soft assignment: navy's histogram is nearer black's than red's is.
    assert np.abs(navy - black).sum() < np.abs(histogram - black).sum()
