"""The per-face feature cache of `adlens train attributes`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from adlens.training.cache import FaceRows, FeatureCache


def rows() -> FaceRows:
    return FaceRows(np.arange(8, dtype=np.float32).reshape(2, 4), np.array(["real", "cap"], dtype=object),
                    np.array([False, True]), 0, 1)


def test_an_entry_comes_back_as_it_went_in(tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    cache = FeatureCache(tmp_path / "cache", "crop 128")
    assert cache.get(image, "k") is None
    cache.put(image, "k", rows())
    back = cache.get(image, "k")
    assert back is not None
    np.testing.assert_array_equal(back.features, rows().features)
    assert back.kind.tolist() == ["real", "cap"] and back.mirrored.tolist() == [False, True]
    assert (back.no_face, back.synthetic_no_face) == (0, 1)
    assert not list((tmp_path / "cache").rglob("*.tmp"))  # atomic_path's temporary files are gone


def test_a_change_of_config_key_or_file_misses(tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    FeatureCache(tmp_path, "crop 128").put(image, "k", rows())
    assert FeatureCache(tmp_path, "crop 144").get(image, "k") is None
    assert FeatureCache(tmp_path, "crop 128").get(image, "other labels") is None
    image.write_bytes(b"xy")
    os.utime(image, ns=(1, 1))
    assert FeatureCache(tmp_path, "crop 128").get(image, "k") is None


def test_an_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    cache = FeatureCache(tmp_path, "c")
    cache.put(image, "k", rows())
    cache.path(image, "k").write_bytes(b"broken")
    assert cache.get(image, "k") is None
