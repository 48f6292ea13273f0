"""Named dominant colours of a product photo.

The background is estimated from the photo's border and removed by a flood from the
border (so white regions enclosed by the product stay); the remaining pixels are
clustered by k-means in CIE Lab and each cluster is named by the nearest entry of
:data:`COLOURS` under CIEDE2000, which, unlike plain Lab distance, does not call every
dark or greyish garment by a chromatic name. The vocabulary follows the ``baseColour``
column of the fashion catalogue, lower-cased.
"""

from __future__ import annotations

import cv2
import numpy as np

from adlens.imageio import load_image

#: Colour name → the sRGB shades it covers, placed where catalogue photos of that colour fall
#: once the background is gone (measured on the fashion subset): photographed black fabric
#: is a dark grey, "blue" is mostly denim, and rare near-synonyms of common colours (charcoal,
#: steel, silver, metallic, taupe…) get a single shade at the edge of their common neighbour
#: so they do not swallow it.
COLOURS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "black": ((31, 31, 31), (53, 53, 53), (68, 68, 68)),
    "charcoal": ((80, 85, 94),),
    "grey": ((114, 114, 114), (145, 145, 145), (182, 182, 182), (207, 207, 207)),
    "grey melange": ((175, 171, 162),),
    "steel": ((127, 141, 155),),
    "silver": ((187, 194, 200),),
    "metallic": ((153, 167, 182),),
    "white": ((241, 241, 241), (226, 226, 226)),
    "off white": ((237, 232, 221),),
    "cream": ((238, 228, 208),),
    "beige": ((201, 182, 159), (220, 205, 184)),
    "skin": ((207, 161, 139),),
    "nude": ((214, 181, 160),),
    "peach": ((223, 185, 171),),
    "khaki": ((181, 157, 125),),
    "tan": ((153, 110, 77),),
    "taupe": ((155, 133, 118),),
    "mushroom brown": ((151, 127, 108),),
    "brown": ((77, 63, 57), (104, 86, 77), (138, 114, 99)),
    "coffee brown": ((59, 39, 30),),
    "copper": ((154, 108, 93),),
    "bronze": ((88, 67, 46),),
    "rust": ((192, 97, 60),),
    "gold": ((192, 161, 115),),
    "mustard": ((229, 188, 88),),
    "yellow": ((246, 220, 124), (238, 201, 75)),
    "orange": ((236, 143, 79), (240, 113, 25), (245, 150, 20)),
    "red": ((180, 70, 72), (219, 90, 83), (224, 51, 46)),
    "maroon": ((103, 58, 61), (132, 80, 82)),
    "burgundy": ((112, 40, 70),),
    "rose": ((216, 121, 148),),
    "pink": ((188, 128, 142), (209, 165, 177), (235, 205, 213), (228, 101, 155)),
    "magenta": ((163, 62, 114), (211, 49, 155)),
    "mauve": ((155, 123, 139),),
    "lavender": ((193, 173, 198),),
    "purple": ((81, 65, 89), (117, 100, 127), (156, 138, 166), (103, 63, 147)),
    "navy blue": ((47, 53, 66), (58, 66, 83), (25, 35, 95)),
    "blue": (
        (69, 90, 125), (108, 125, 151), (150, 168, 187), (25, 106, 199), (197, 218, 237), (162, 198, 224),
        (20, 40, 220),
    ),
    "turquoise blue": ((63, 172, 189),),
    "teal": ((50, 116, 119),),
    "sea green": ((66, 154, 138),),
    "green": ((84, 113, 93), (134, 158, 141), (185, 203, 183), (62, 148, 87)),
    "olive": ((108, 108, 86), (84, 83, 66)),
    "lime green": ((151, 200, 76),),
    "fluorescent green": ((136, 247, 72),),
}

#: The fixed order of :func:`colour_histogram`'s bins.
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)

_KMEANS_SAMPLES = 4096  # more pixels move the shares by well under a percent
_HISTOGRAM_SAMPLES = 1024  # each sample is compared with every shade, so keep this smaller
_BACKGROUND_TOLERANCE = 6.0  # CIEDE2000 from the border colour still counted as background
_CANNY_LOW, _CANNY_HIGH = 10, 30  # low enough to catch a white shirt's faint outline on white
_BARRIER_WIDTH = 3  # edges are dilated this much so the flood cannot slip through their gaps
_MIN_FOREGROUND = 0.01  # below this share of the image, treat the whole image as the product
_MIN_SHARE = 0.05
_EDGE_DROP = (5, 3)  # erosions tried in turn to drop the product's outline from its colour
_HISTOGRAM_SIGMA = 8.0  # CIEDE2000 width of the soft assignment of a pixel to nearby names


def to_lab(bgr: np.ndarray) -> np.ndarray:
    """CIE Lab (D65; L in 0..100) of a uint8 BGR image or of an (N, 3) array of BGR pixels, as float32."""
    pixels = np.asarray(bgr, dtype=np.float32) / np.float32(255.0)
    flat = pixels.reshape(-1, 1, 3)
    return cv2.cvtColor(flat, cv2.COLOR_BGR2Lab).reshape(pixels.shape)


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between broadcastable Lab arrays (last axis L, a, b), with
    kL = kC = kH = 1, written from Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula"."""
    lab1, lab2 = np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_mean7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    achromatic = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(achromatic, 0.0, dh)
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_mean, c_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum, h_gap = h1p + h2p, np.abs(h1p - h2p)
    h_mean = np.where(h_gap <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_mean = np.where(achromatic, h_sum, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    c_mean_7 = c_mean**7
    r_c = 2 * np.sqrt(c_mean_7 / (c_mean_7 + 25.0**7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    term_l, term_c, term_h = d_l / s_l, d_c / s_c, d_h / s_h
    return np.sqrt(np.maximum(term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h, 0.0))


_SHADE_NAME = np.array([index for index, shades in enumerate(COLOURS.values()) for _ in shades])
_SHADE_LAB = to_lab(np.array([rgb[::-1] for shades in COLOURS.values() for rgb in shades], np.uint8))


def name_distances(lab: np.ndarray) -> np.ndarray:
    """CIEDE2000 from each Lab row of ``lab`` (N, 3) to the nearest shade of each of :data:`COLOUR_NAMES`."""
    to_shades = delta_e_2000(np.asarray(lab, np.float32)[:, None, :], _SHADE_LAB[None, :, :])
    distances = np.full((len(to_shades), len(COLOUR_NAMES)), np.inf)
    np.minimum.at(distances.T, _SHADE_NAME, to_shades.T)
    return distances


def colour_name(rgb: tuple[int, int, int]) -> str:
    """The name of the nearest named colour of one sRGB triple, e.g. ``(20, 30, 100)`` → ``"navy blue"``."""
    lab = to_lab(np.array([[rgb[2], rgb[1], rgb[0]]], np.uint8))
    return COLOUR_NAMES[int(np.argmin(name_distances(lab)[0]))]


def _border(values: np.ndarray, width: int) -> np.ndarray:
    """The values of an (H, W, ...) array on its outer ``width``-pixel ring, flattened over pixels."""
    top, bottom = values[:width], values[-width:]
    left, right = values[width:-width, :width], values[width:-width, -width:]
    parts = [part.reshape(-1, *values.shape[2:]) for part in (top, bottom, left, right)]
    return np.concatenate(parts)


def _background(image: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Pixels similar to the border's median colour and connected to the border, with edges as
    barriers to the flood: a white shirt on a white background is enclosed by its faint outline,
    so its inside is not taken for background even though its colour is."""
    height, width = lab.shape[:2]
    ring = max(1, min(height, width) // 50)
    reference = np.median(_border(lab, ring), axis=0)
    similar = delta_e_2000(lab, reference) <= _BACKGROUND_TOLERANCE
    edges = cv2.Canny(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), _CANNY_LOW, _CANNY_HIGH)
    barrier = cv2.dilate(edges, np.ones((_BARRIER_WIDTH, _BARRIER_WIDTH), np.uint8)) > 0
    open_ = (similar & ~barrier).astype(np.uint8)
    _, labels = cv2.connectedComponents(open_, connectivity=4)
    touching = np.unique(_border(labels, ring)[_border(open_, ring) > 0])
    background = np.isin(labels, touching) & (open_ > 0)
    # Give back to the background the background-coloured pixels the dilated barrier hid.
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(_BARRIER_WIDTH // 2 + 1):
        background |= (cv2.dilate(background.astype(np.uint8), kernel) > 0) & similar
    return background


def foreground_mask(bgr: np.ndarray) -> np.ndarray:
    """Boolean (H, W) mask of the product: everything but the border-connected background, with
    isolated specks (JPEG noise on a white background) opened away; when almost nothing is left
    (an all-white photo, a swatch filling the frame) the whole image counts as the product."""
    return _foreground(_as_bgr(bgr))


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """``image`` itself when it is already uint8 BGR, else converted by :func:`load_image` (grey, BGRA,
    other dtypes); an already decoded photo is not checked against the pixel limit a second time."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    return load_image(image)


def _foreground(image: np.ndarray) -> np.ndarray:
    if min(image.shape[:2]) < 3:  # no border to tell a background from
        return np.ones(image.shape[:2], bool)
    foreground: np.ndarray = (~_background(image, to_lab(image))).astype(np.uint8)
    foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if foreground.mean() < _MIN_FOREGROUND:
        return np.ones(image.shape[:2], bool)
    return foreground > 0


def _product_lab(bgr: np.ndarray, max_samples: int) -> np.ndarray:
    """Lab values (N, 3) of a deterministic subsample of the product's pixels, edges dropped."""
    image = _as_bgr(bgr)
    mask: np.ndarray = _foreground(image).astype(np.uint8)
    # The outermost ring of the product mixes with the background (anti-aliasing, JPEG halo);
    # drop it unless that leaves too little of a thin product.
    for size in _EDGE_DROP:
        core = cv2.erode(mask, np.ones((size, size), np.uint8))
        if core.sum() >= max(16, 0.3 * mask.sum()):
            mask = core
            break
    pixels = image[mask > 0]
    step = max(1, len(pixels) // max_samples)
    return to_lab(pixels[::step][:max_samples])


def _kmeans(samples: np.ndarray, k: int, seed: int = 0, iterations: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding from a fixed seed: (centres (k', 3), labels (N,))."""
    rng = np.random.default_rng(seed)
    centres = [samples[rng.integers(len(samples))]]
    for _ in range(1, k):
        nearest = np.min(((samples[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        if nearest.sum() <= 1e-9:  # fewer distinct colours than k
            break
        centres.append(samples[rng.choice(len(samples), p=nearest / nearest.sum())])
    centres_arr = np.array(centres, np.float32)
    labels = np.zeros(len(samples), np.int64)
    for step in range(iterations):
        new_labels = np.argmin(((samples[:, None, :] - centres_arr[None]) ** 2).sum(-1), axis=1)
        if step and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        for index in range(len(centres_arr)):
            members = samples[labels == index]
            if len(members):
                centres_arr[index] = members.mean(axis=0)
    return centres_arr, labels


def dominant_colours(bgr: np.ndarray, k: int = 4) -> dict[str, float]:
    """The product's named colours → share of its pixels, largest first, shares summing to 1: its
    pixels are clustered into ``k`` Lab clusters, each named by its nearest named colour, clusters
    with the same name merged and names with less than 5% of the pixels dropped."""
    samples = _product_lab(bgr, _KMEANS_SAMPLES)
    centres, labels = _kmeans(samples, max(1, int(k)))
    counts = np.bincount(labels, minlength=len(centres)).astype(np.float64)
    shares: dict[str, float] = {}
    for index, name_index in enumerate(np.argmin(name_distances(centres), axis=1)):
        name = COLOUR_NAMES[int(name_index)]
        shares[name] = shares.get(name, 0.0) + counts[index] / counts.sum()
    kept = {name: share for name, share in shares.items() if share >= _MIN_SHARE}
    total = sum(kept.values())
    return {name: float(share / total) for name, share in sorted(kept.items(), key=lambda item: -item[1])}


def colour_histogram(bgr: np.ndarray) -> np.ndarray:
    """The product's pixels softly assigned to :data:`COLOUR_NAMES` (a float32 vector summing to 1):
    each pixel spreads its weight over nearby names (Gaussian in CIEDE2000), so near-synonyms such
    as grey, steel and silver share mass and a kNN over these vectors is not brittle."""
    samples = _product_lab(bgr, _HISTOGRAM_SAMPLES)
    distances = name_distances(samples)
    logits = -0.5 * (distances / _HISTOGRAM_SIGMA) ** 2
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    histogram = weights.mean(axis=0)
    return (histogram / histogram.sum()).astype(np.float32)
