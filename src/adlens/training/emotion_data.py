"""FER-layout folders (one sub-folder per emotion of 48×48 grey images) as uint8 arrays, read once.

:func:`load_fer` reads a folder whose class folders are named as :data:`adlens.faces.EMOTIONS`
(directly, or inside its one sub-folder, as ``fer2013_train/train``); :func:`cached_fer` keeps the
arrays in an ``.npz`` in the training's work folder, keyed by the folder's path and file list, so a
resumed run does not decode 28,709 JPEGs again. No torch here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from adlens.files import atomic_path
from adlens.errors import InvalidInputError
from adlens.evaluation.common import Track, no_track
from adlens.faces import EMOTIONS
from adlens.imageio import iter_image_files

SIDE = 48


def class_root(folder: Path) -> Path:
    """The folder holding the class folders: ``folder`` itself or its one sub-folder.

    Raises:
        InvalidInputError: missing, or not one folder per emotion (the message names what was found).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(f"FER data folder {folder} not found")
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(subfolders) == 1 and subfolders[0].name not in EMOTIONS:
        return class_root(subfolders[0])
    names = {p.name for p in subfolders}
    if names != set(EMOTIONS):
        missing, unknown = sorted(set(EMOTIONS) - names), sorted(names - set(EMOTIONS))
        raise InvalidInputError(
            f"{folder} must hold one folder per emotion ({', '.join(EMOTIONS)})"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return folder


def fer_files(folder: Path) -> list[tuple[Path, int]]:
    """Every image under the class folders of ``folder`` with its class index, in a fixed order."""
    root = class_root(folder)
    files = [(path, k) for k, name in enumerate(EMOTIONS) for path in sorted(iter_image_files([root / name]))]
    if not files:
        raise InvalidInputError(f"no images under the emotion folders of {root}")
    return files


def load_fer(folder: Path, track: Track = no_track) -> tuple[np.ndarray, np.ndarray]:
    """``(images (n, 48, 48) uint8, labels (n,) int64)`` of a FER-layout folder (grey, resized to 48 if not).

    Raises:
        InvalidInputError: a bad folder layout or an unreadable image (named).
    """
    files = fer_files(folder)
    images = np.empty((len(files), SIDE, SIDE), dtype=np.uint8)
    for i, (path, _) in enumerate(track(files, f"reading {Path(folder).name}", len(files))):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise InvalidInputError(f"cannot read image {path}")
        if image.shape != (SIDE, SIDE):
            image = cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
        images[i] = image
    return images, np.array([k for _, k in files], dtype=np.int64)


def folder_key(folder: Path) -> str:
    """A short hash of the folder's path and its files (names, classes, sizes): the cache's key."""
    files = fer_files(folder)
    listing = "\n".join(f"{p.relative_to(folder)}\t{k}\t{p.stat().st_size}" for p, k in files)
    return hashlib.sha256(f"{Path(folder).resolve()}\n{listing}".encode()).hexdigest()[:16]


def cached_fer(folder: Path, work: Path, name: str, track: Track = no_track) -> tuple[np.ndarray, np.ndarray]:
    """:func:`load_fer`, kept in ``work/name-KEY.npz`` (written atomically) and read from there next time."""
    key = folder_key(Path(folder))
    path = Path(work) / f"{name}-{key}.npz"
    if path.is_file():
        with np.load(path) as data:
            return data["images"], data["labels"]
    images, labels = load_fer(folder, track)
    with atomic_path(path, "the cached faces") as partial, partial.open("wb") as out:
        np.savez(out, images=images, labels=labels)
    return images, labels
