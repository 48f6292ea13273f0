from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.faces import EMOTIONS
from adlens.training.emotion_data import cached_fer, class_root, load_fer
from training.emotion_faces import fer_folder


@pytest.mark.parametrize("nested", [None, "train"])
def test_reads_the_class_folders_directly_or_in_one_subfolder(tmp_path, nested):
    images, labels = load_fer(fer_folder(tmp_path / "fer", per_class=3, nested=nested))
    assert images.shape == (21, 48, 48) and images.dtype == np.uint8
    assert labels.tolist() == [k for k in range(len(EMOTIONS)) for _ in range(3)]


def test_other_sizes_are_resized(tmp_path):
    import cv2

    root = fer_folder(tmp_path / "fer", per_class=1)
    cv2.imwrite(str(root / "happy" / "big.png"), np.full((96, 80), 200, np.uint8))
    images, labels = load_fer(root)
    assert images.shape == (8, 48, 48)
    assert any((image == 200).all() for image in images[labels == EMOTIONS.index("happy")])


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing", "not found"),
    (lambda p: (p / "fer" / "happy").mkdir(parents=True) or p / "fer", "missing: angry"),
    (lambda p: fer_folder(p / "fer", 1) and (p / "fer" / "bored").mkdir() or p / "fer", "unknown: bored"),
])
def test_bad_folders_are_named(tmp_path, make, message):
    with pytest.raises(InvalidInputError, match=message):
        class_root(make(tmp_path))


def test_unreadable_image_is_named(tmp_path):
    root = fer_folder(tmp_path / "fer", per_class=1)
    (root / "sad" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(InvalidInputError, match="broken.png"):
        load_fer(root)


def test_cache_is_written_once_and_read_back(tmp_path):
    root = fer_folder(tmp_path / "fer", per_class=2)
    first = cached_fer(root, tmp_path / "work", "train")
    (cache,) = (tmp_path / "work").glob("train-*.npz")
    again = cached_fer(root, tmp_path / "work", "train")
    assert list((tmp_path / "work").glob("train-*.npz")) == [cache]
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    (root / "fear" / "extra.png").write_bytes((root / "fear" / "0.png").read_bytes())
    assert len(cached_fer(root, tmp_path / "work", "train")[1]) == 15  # a changed folder is read again
