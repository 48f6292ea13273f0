"""Small synthetic FER-layout folders for the emotion-training tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from adlens.faces import EMOTIONS


def fer_folder(root: Path, per_class: int = 4, seed: int = 0, nested: str | None = None) -> Path:
    """``root`` (or ``root/nested``) with one folder per emotion of ``per_class`` random 48×48 grey PNGs."""
    rng = np.random.default_rng(seed)
    base = root / nested if nested else root
    for k, name in enumerate(EMOTIONS):
        (base / name).mkdir(parents=True)
        for i in range(per_class):
            # each class a different brightness, so a net can learn something in an epoch
            image = np.clip(rng.normal(30 + 30 * k, 20, (48, 48)), 0, 255).astype(np.uint8)
            cv2.imwrite(str(base / name / f"{i}.png"), image)
    return root


def tiny_folders(root: Path) -> tuple[Path, Path]:
    """A training folder (28 faces, classes in a ``train`` sub-folder, as fer2013_train) and a validation one (14)."""
    return fer_folder(root / "train", per_class=4, nested="train"), fer_folder(root / "val", per_class=2, seed=1)


def tiny_training(folders: tuple[Path, Path], epochs: int = 2):
    """An :class:`~adlens.training.emotion.EmotionTraining` of a tiny net on :func:`tiny_folders` (imports torch)."""
    from adlens.training.emotion import EmotionTraining

    return EmotionTraining(data=folders[0], val=folders[1], epochs=epochs, arch="8-16x1", batch_size=8, warmup_epochs=1)
