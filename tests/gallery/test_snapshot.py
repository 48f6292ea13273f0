"""Snapshots of the gallery index: saved whole, read back memory-mapped, newest wins, written atomically."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from adlens.gallery.index import GalleryIndex
from adlens.gallery.snapshot import SnapshotFolder, load_index, save_index, snapshot_name


def vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32) / np.sqrt(256)


@pytest.mark.parametrize("exact_max", [10_000, 500], ids=["exact", "ivf"])
@pytest.mark.parametrize("mmap", [True, False], ids=["mapped", "copied"])
def test_a_loaded_snapshot_answers_as_the_saved_index_and_takes_changes(tmp_path, exact_max, mmap):
    data, ids = vectors(1000), np.arange(1000, dtype=np.int64) * 2
    index = GalleryIndex(exact_max=exact_max).build(data, ids=ids)
    save_index(index, tmp_path / "g.faiss")
    loaded = load_index(tmp_path / "g.faiss", exact_max=exact_max, mmap=mmap)
    assert (loaded.kind_, len(loaded), loaded.changes) == (index.kind_, 1000, 0)
    queries = data[:30] + 0.001
    assert (loaded.search(queries, k=2)[1] == index.search(queries, k=2)[1]).all()
    loaded.remove(ids[:10])  # the mapped base is never written: ids are hidden, additions go to the overlay
    loaded.add(data[:1], [5001])
    found = loaded.search(data[:10], k=1)[1][:, 0]
    assert found[0] == 5001 and not np.isin(found, ids[:10]).any() and len(loaded) == 991
    held_ids, held = loaded.vectors()
    assert len(held_ids) == 991 and np.allclose(held[-1], data[0])


def test_only_an_unchanged_index_is_saved(tmp_path):
    index = GalleryIndex().build(vectors(3), ids=[1, 2, 3])
    index.remove([1])
    with pytest.raises(ValueError, match="compact"):
        save_index(index, tmp_path / "g.faiss")
    save_index(index.compacted(), tmp_path / "g.faiss")
    assert len(load_index(tmp_path / "g.faiss")) == 2


def test_the_folder_keeps_the_newest_snapshot_private(tmp_path):
    folder = SnapshotFolder(tmp_path / "shm", snapshot_name("sqlite:///a.db", "key1"))
    assert folder.latest() is None and folder.load() is None
    first = folder.write(GalleryIndex().build(vectors(5), ids=np.arange(5)), 7)
    assert first is not None and folder.latest() == (7, first)
    assert folder.write(GalleryIndex().build(vectors(4), ids=np.arange(4)), 7) is None  # not newer
    second = folder.write(GalleryIndex().build(vectors(6), ids=np.arange(6)), 9)
    assert second is not None and not first.exists()
    sequence, loaded = folder.load()
    assert (sequence, len(loaded)) == (9, 6)
    assert stat.S_IMODE(second.stat().st_mode) == 0o600 and stat.S_IMODE(folder.folder.stat().st_mode) == 0o700
    assert not [p for p in folder.folder.iterdir() if p.name.endswith(".tmp")]


def test_another_store_or_key_never_shares_a_snapshot():
    names = {snapshot_name(url, key) for url in ("sqlite:///a.db", "sqlite:///b.db") for key in ("k1", "k2")}
    assert len(names) == 4 and all(n.startswith("gallery-") for n in names)
