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
