"""Identification floor: every identity in faces_small recognised as its SOURCE.txt lists,
strangers reported unknown, at the default threshold (gallery: the train/ folders)."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.embed import distances
from adlens.settings import get_settings

# From ../shared/data/faces_small/SOURCE.txt: photo -> everyone in it.
EXPECTED = {
    "test/alex_lacamoire1.jpg": ["alex_lacamoire"],
    "test/obama1.jpg": ["obama"],
    "test/kit_with_rose.jpg": ["rose_leslie", "unknown"],
    "test/johnsnow_test1.jpg": ["unknown"],
    "test/obama_and_biden.jpg": ["biden", "obama", "unknown"],
    "two_people.jpg": ["biden", "obama"],
    "obama-240p.jpg": ["obama"],
    "obama-480p.jpg": ["obama"],
    "obama-720p.jpg": ["obama"],
    "obama-1080p.jpg": ["obama"],
    "obama3.jpg": ["obama"],
    "obama_partial_face.jpg": ["obama"],
    "32bit.png": ["obama"],
    "lin-manuel-miranda.png": ["unknown"],
}


@pytest.fixture(scope="module")
def gallery(analyzer, faces_small):
    embeddings, labels = [], []
    for person in sorted((faces_small / "train").iterdir()):
        for photo in sorted(person.iterdir()):
            faces = analyzer.analyze(photo).largest()
            embeddings.append(faces.embeddings[0])
            labels.append(person.name)
    assert sorted(set(labels)) == ["alex_lacamoire", "biden", "obama", "rose_leslie"]
    return np.array(embeddings), labels


@pytest.mark.parametrize(("photo", "expected"), sorted(EXPECTED.items()))
def test_identity_recognised_or_unknown(analyzer, gallery, faces_small, photo, expected):
    embeddings, labels = gallery
    faces = analyzer.analyze(faces_small / photo)
    d = distances(faces.embeddings, embeddings)
    threshold = get_settings().match_threshold
    found = sorted(labels[j] if d[i, j] < threshold else "unknown" for i, j in enumerate(d.argmin(axis=1)))
    assert found == expected


def test_distances_shape_and_values():
    d = distances(np.zeros((3, 128)), np.ones((5, 128)))
    assert d.shape == (3, 5)
    np.testing.assert_allclose(d, np.sqrt(128), rtol=1e-6)
