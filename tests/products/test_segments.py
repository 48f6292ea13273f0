"""Segmenter: finds planted taste groups, names them, projects and plots them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from adlens.errors import InvalidInputError
from adlens.products.segments import Segmenter

PLANTED = {
    "sneakers": {"token:sneakers": 1.0, "colour:red": 0.8, "token:casual": 0.6},
    "sandals": {"token:sandals": 1.0, "colour:blue": 0.8, "token:summer": 0.6},
    "bags": {"token:bags": 1.0, "colour:black": 0.8, "token:formal": 0.6},
}


def planted_profiles(per_group: int = 12, seed: int = 0) -> tuple[list[dict[str, float]], list[int]]:
    """``per_group`` noisy profiles around each planted taste, plus a shared and a private aspect each."""
    rng = np.random.default_rng(seed)
    profiles, truth = [], []
    for label, taste in enumerate(PLANTED.values()):
        for i in range(per_group):
            profile = {key: w * rng.uniform(0.7, 1.3) for key, w in taste.items()}
            profile["token:apparel"] = rng.uniform(0.0, 0.3)
            profile[f"token:own{label}_{i}"] = rng.uniform(0.0, 0.2)
            profile["token:disliked"] = -rng.uniform(0.0, 0.2)
            profiles.append(profile)
            truth.append(label)
    return profiles, truth


@pytest.fixture(scope="module")
def fitted() -> tuple[Segmenter, list[dict[str, float]], list[int]]:
    profiles, truth = planted_profiles()
    return Segmenter(random_state=0).fit(profiles), profiles, truth


def test_finds_the_planted_groups(fitted):
    segmenter, _, truth = fitted
    assert segmenter.n_segments_ == 3 and segmenter.silhouette_ > 0.5
    assert adjusted_rand_score(truth, segmenter.labels_) == 1.0
    assert [s["size"] for s in segmenter.segments_] == [12, 12, 12]


def test_segments_are_named_after_their_aspects(fitted):
    segmenter, _, _ = fitted
    labels = sorted(s["label"] for s in segmenter.segments_)
    assert labels == ["bags · black · formal", "sandals · blue · summer", "sneakers · red · casual"]
    for segment in segmenter.segments_:
        assert len(segment["top_aspects"]) <= 8 and all(w > 0 for _, w in segment["top_aspects"])
        assert segment["top_aspects"][0][0] in segment["centroid"]
        assert np.isfinite([segment["x"], segment["y"]]).all()


def test_projection_and_predict(fitted):
    segmenter, profiles, _ = fitted
    assert segmenter.embedding_2d_.shape == (36, 2) and np.isfinite(segmenter.embedding_2d_).all()
    np.testing.assert_array_equal(segmenter.predict(profiles), segmenter.labels_)
    sandal_fan = {"token:sandals": 2.0, "colour:blue": 1.0, "token:never-seen": 5.0}
    (label,) = segmenter.predict([sandal_fan])
    assert segmenter.segments_[label]["label"].startswith("sandals")
    assert segmenter.predict([{}, {"token:never-seen": 1.0}]).tolist() == [-1, -1]


def test_given_number_of_segments_and_empty_profiles():
    profiles, _ = planted_profiles(per_group=4)
    segmenter = Segmenter(n_segments=2).fit(profiles + [{}])
    assert segmenter.n_segments_ == 2 and segmenter.labels_[-1] == -1
    assert np.isnan(segmenter.embedding_2d_[-1]).all()
    assert sum(s["size"] for s in segmenter.segments_) == 12


def test_follows_the_scikit_learn_contract():
    segmenter = Segmenter(n_segments=5, max_segments=3)
    assert segmenter.get_params() == {"n_segments": 5, "max_segments": 3, "random_state": 0}
    assert clone(segmenter).get_params() == segmenter.get_params()
    profiles, _ = planted_profiles(per_group=5)
    assert Segmenter().fit_predict(profiles).shape == (15,)


@pytest.mark.parametrize(
    ("profiles", "params", "message"),
    [
        ([{"token:a": 1.0}, {"token:b": 1.0}, {}], {}, "at least 3"),
        ([], {}, "at least 3"),
        ([{"token:a": 1.0}, {"token:b": 1.0}, {"token:c": 1.0}], {"n_segments": 3}, "between 2 and 2"),
        ([{"token:a": 1.0}] * 5, {}, "too alike"),
    ],
)
def test_invalid_input(profiles, params, message):
    with pytest.raises(InvalidInputError, match=message):
        Segmenter(**params).fit(profiles)


def test_plot_writes_a_png(fitted, tmp_path):
    segmenter, profiles, _ = fitted
    path = segmenter.plot(tmp_path / "nested" / "segments.png", customer_ids=[f"c{i}" for i in range(len(profiles))])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(InvalidInputError, match="customer ids"):
        segmenter.plot(tmp_path / "x.png", customer_ids=["c0"])


def test_plot_leaves_the_global_backend_alone(fitted, tmp_path):
    import matplotlib

    before = matplotlib.get_backend()
    fitted[0].plot(tmp_path / "s.png")
    assert matplotlib.get_backend() == before
