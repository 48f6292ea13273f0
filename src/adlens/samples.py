"""Built-in sample pictures for the demo (never read from ../shared).

All come from scikit-image's bundled public-domain data: Eileen Collins's NASA
portrait (``astronaut``), the same portrait with drawn-on sunglasses or a cap (to
show the eyewear and hat targeting), a crowd of six faces from scikit-image's LFW
subset, and a picture with no face at all (``coffee``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from adlens.errors import InvalidInputError
from adlens.imageio import save_image

# Where YuNet finds the astronaut's face (x, y, w, h) and eyes: fixed, the image is.
_ASTRONAUT_BOX = (178.2, 62.9, 89.9, 113.3)
_ASTRONAUT_EYES = ((200.1, 101.8), (247.1, 102.6))
_INK = (20, 20, 20)


def _skimage_data():  # noqa: ANN202 - returns a module
    try:
        from skimage import data
    except ImportError as error:
        raise InvalidInputError("the sample pictures come with scikit-image: pip install 'adlens[demo]'") from error
    return data


def _astronaut() -> np.ndarray:
    """Eileen Collins, NASA portrait (public domain), as shipped by scikit-image."""
    return cv2.cvtColor(_skimage_data().astronaut(), cv2.COLOR_RGB2BGR)


def _sunglasses() -> np.ndarray:
    """The astronaut wearing drawn-on dark sunglasses."""
    image = _astronaut()
    right, left = (np.array(e) for e in _ASTRONAUT_EYES)
    span = float(np.linalg.norm(left - right))
    for eye in (right, left):
        axes = (int(span * 0.42), int(span * 0.3))
        cv2.ellipse(image, tuple(int(v) for v in eye), axes, 0, 0, 360, _INK, -1, cv2.LINE_AA)
    cv2.line(image, tuple(int(v) for v in right), tuple(int(v) for v in left), _INK, max(2, int(span * 0.08)))
    for eye, side in ((right, -1), (left, 1)):
        start = (int(eye[0] + side * span * 0.42), int(eye[1]))
        cv2.line(image, start, (int(eye[0] + side * span * 0.75), int(eye[1] - span * 0.05)), _INK, 3)
    return image


def _cap() -> np.ndarray:
    """The astronaut wearing a drawn-on blue cap."""
    image = _astronaut()
    x, y, w, h = _ASTRONAUT_BOX
    centre, top = int(x + w / 2), int(y + h * 0.12)
    cv2.ellipse(image, (centre, top), (int(w * 0.62), int(h * 0.45)), 0, 180, 360, (140, 40, 20), -1, cv2.LINE_AA)
    cv2.ellipse(image, (int(centre + w * 0.25), top), (int(w * 0.75), int(h * 0.1)), 0, 0, 360, (120, 30, 15), -1,
                cv2.LINE_AA)
    return image


def _crowd() -> np.ndarray:
    """Six faces of scikit-image's LFW subset (25×25 grey), enlarged and tiled 3 × 2."""
    faces = _skimage_data().lfw_subset()[:6]
    tiles = []
    for face in faces:
        grey = cv2.resize((face * 255).astype(np.uint8), (160, 160), interpolation=cv2.INTER_CUBIC)
        tiles.append(cv2.copyMakeBorder(grey, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=200))
    grid = np.vstack([np.hstack(tiles[:3]), np.hstack(tiles[3:])])
    return cv2.cvtColor(grid, cv2.COLOR_GRAY2BGR)


def _coffee() -> np.ndarray:
    """A cup of coffee: a frame with nobody in it."""
    return cv2.cvtColor(_skimage_data().coffee(), cv2.COLOR_RGB2BGR)


SAMPLES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _astronaut,
    "sunglasses": _sunglasses,
    "cap": _cap,
    "crowd": _crowd,
    "coffee": _coffee,
}


def sample_image(name: str) -> np.ndarray:
    """Sample ``name`` as a BGR array."""
    try:
        make = SAMPLES[name]
    except KeyError:
        raise InvalidInputError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}") from None
    return make()


def write_sample(name: str, target: Path) -> Path:
    """Write sample ``name`` to ``target`` (PNG or JPEG by suffix) and return the path."""
    return save_image(target, sample_image(name))
