"""GalleryIndex: nearest person (not nearest vector), exact and IVF, euclidean distances."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.gallery.index import GalleryIndex, cells_for, probes_for


def people(n_people: int, per_person: int, seed: int = 0, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """``n_people`` random identities in 128-d (about 1 apart), ``per_person`` noisy vectors each."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_people, 128)).astype(np.float32) / np.sqrt(256)
    labels = np.repeat(np.arange(n_people), per_person)
    vectors = centres[labels] + rng.standard_normal((len(labels), 128)).astype(np.float32) * noise / np.sqrt(128)
    return vectors, labels


@pytest.mark.parametrize("exact_max", [10_000, 100], ids=["exact", "ivf"])
def test_finds_each_person_with_euclidean_distance(exact_max):
    vectors, labels = people(300, 3)
    index = GalleryIndex(exact_max=exact_max, nprobe=16).build(vectors, labels)
    assert index.kind_ == ("exact" if exact_max > len(vectors) else "ivf") and len(index) == 900
    queries = vectors[::3] + 0.001
    distances, found = index.search(queries, k=1)
    assert (found[:, 0] == labels[::3]).mean() >= 0.98
    hit = found[:, 0] == labels[::3]
    expected = np.linalg.norm(queries - vectors[::3], axis=1)
    assert np.allclose(distances[hit, 0], expected[hit], atol=1e-3)  # not squared


def test_k_people_are_distinct_and_use_each_persons_nearest_vector():
    # person 0 has three vectors near the query: they must count once, at the nearest
    vectors = np.zeros((5, 128), np.float32)
    vectors[:3, 0] = [0.10, 0.20, 0.30]
    vectors[3, 0], vectors[4, 0] = 0.5, 0.9
    distances, found = GalleryIndex().build(vectors, np.array([0, 0, 0, 1, 2])).search(np.zeros(128), k=3)
    assert found.tolist() == [[0, 1, 2]]
    assert np.allclose(distances, [[0.1, 0.5, 0.9]], atol=1e-6)


def test_fewer_people_than_k_are_padded():
    distances, found = GalleryIndex().build(np.ones((2, 128)), np.array([4, 4])).search(np.ones((2, 128)), k=2)
    assert found.tolist() == [[4, -1], [4, -1]] and np.isinf(distances[:, 1]).all()


def test_empty_gallery_answers_nobody():
    index = GalleryIndex().build(np.zeros((0, 128)), np.zeros(0, int))
    distances, found = index.search(np.zeros((3, 128)))
    assert len(index) == 0 and (found == -1).all() and np.isinf(distances).all()


@pytest.mark.parametrize(
    ("vectors", "labels", "queries", "message"),
    [(np.zeros((3, 128)), np.zeros(2, int), None, "n labels"),
     (np.zeros((2, 128)), np.array([0, -1]), None, ">= 0"),
     (np.zeros((2, 128)), np.zeros(2, int), np.zeros((1, 64)), "128 columns")],
)
def test_bad_input(vectors, labels, queries, message):
    with pytest.raises(InvalidInputError, match=message):
        GalleryIndex().build(vectors, labels).search(queries)


def test_search_before_build():
    with pytest.raises(InvalidInputError, match="not built"):
        GalleryIndex().search(np.zeros((1, 128)))


@pytest.mark.parametrize(("n", "cells", "probes"), [(60_000, 1024, 96), (1_000_000, 4096, 128), (10, 16, 16)])
def test_ivf_sizes(n, cells, probes):
    assert cells_for(n) == cells and probes_for(cells) == probes


def random_vectors(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32) / np.sqrt(256)


@pytest.mark.parametrize("exact_max", [10_000, 500], ids=["exact", "ivf"])
def test_adds_and_removes_answer_as_a_rebuild(exact_max):
    vectors, ids = random_vectors(1500), np.arange(1500, dtype=np.int64) * 3 + 7
    first = GalleryIndex(exact_max=exact_max).build(vectors[:1000], ids=ids[:1000])
    nprobe = int(first.base_.nlist) if first.kind_ == "ivf" else None  # every cell: exact answers to compare
    grown = GalleryIndex(exact_max=exact_max, nprobe=nprobe).build(vectors[:1000], ids=ids[:1000],
                                                                   cells=getattr(first.base_, "quantizer", None))
    grown.add(vectors[1000:], ids[1000:])
    assert grown.remove(ids[::4]) == len(ids[::4]) and grown.remove([ids[0], 123_456]) == 0
    grown.add(vectors[1:2] + 0.5, ids[1:2])  # replaces id 10's vector
    kept = np.ones(1500, bool)
    kept[::4] = False
    expected = vectors.copy()
    expected[1] += 0.5
    rebuilt = GalleryIndex(exact_max=10_000).build(expected[kept], ids=ids[kept])
    assert len(grown) == len(rebuilt) == kept.sum() and grown.changes > 0
    queries = np.concatenate([vectors[:40], expected[1:2], random_vectors(40, seed=2)])
    (d1, p1), (d2, p2) = grown.search(queries, k=3), rebuilt.search(queries, k=3)
    assert (p1 == p2).all() and np.allclose(d1, d2, atol=1e-5)
    assert not np.isin(p1, ids[::4]).any()
    frozen = grown.frozen()
    grown.remove(ids[1:2])  # the frozen copy does not see later changes
    assert len(frozen) == len(grown) + 1
    compact = frozen.compacted()  # IVF: the same cells, each vector kept in its cell
    assert compact.changes == 0 and len(compact) == len(rebuilt) and compact.kind_ == first.kind_
    (d3, p3) = compact.search(queries, k=3)
    assert (p3 == p2).all() and np.allclose(d3, d2, atol=1e-5)
    ids_held, held = compact.vectors()
    assert (ids_held == ids[kept]).all() and np.allclose(held, expected[kept])


def test_labels_follow_adds():
    index = GalleryIndex().build(np.zeros((1, 128)), np.array([5]), ids=[10])
    index.add(np.ones((2, 128)), [11, 12], labels=[6, 6])
    distances, found = index.search(np.ones(128), k=3)
    assert found.tolist() == [[6, 5, -1]] and distances[0, 0] == 0
    with pytest.raises(InvalidInputError, match="give labels"):
        index.add(np.ones((1, 128)), [13])


@pytest.mark.parametrize(
    ("ids", "message"),
    [([1, 1], "distinct"), ([-1, 2], ">= 0"), ([1], "need 2")],
)
def test_bad_ids(ids, message):
    with pytest.raises(InvalidInputError, match=message):
        GalleryIndex().build(np.zeros((1, 128)), ids=[0]).add(np.ones((2, 128)), ids)


@pytest.mark.parametrize(
    ("exact_max", "grow_to", "expected"),
    [(100, 50, False), (100, 101, True), (10, 40, False), (10, 300, True), (10, 3, True)],
)
def test_needs_training_only_after_a_large_change(exact_max, grow_to, expected):
    vectors = random_vectors(max(grow_to, 40))
    index = GalleryIndex(exact_max=exact_max).build(vectors[:40], ids=np.arange(40))
    if grow_to > 40:
        index.add(vectors[40:grow_to], np.arange(40, grow_to))
    else:
        index.remove(np.arange(grow_to, 40))
    assert index.needs_training() is expected
