"""Built-in sample pictures for the demo (never read from ../shared)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from adlens.errors import InvalidInputError


def _astronaut() -> np.ndarray:
    """Eileen Collins, NASA portrait (public domain), as shipped by scikit-image."""
    try:
        from skimage import data
    except ImportError as error:
        raise InvalidInputError(
            "the astronaut sample comes with scikit-image: pip install 'adlens[demo]'"
        ) from error
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


SAMPLES = {"astronaut": _astronaut}


def write_sample(name: str, target: Path) -> Path:
    """Write sample ``name`` to ``target`` (PNG or JPEG by suffix) and return the path."""
    try:
        image = SAMPLES[name]()
    except KeyError:
        raise InvalidInputError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(target), image):
        raise InvalidInputError(f"cannot write {target} (use a .png or .jpg name)")
    return target
