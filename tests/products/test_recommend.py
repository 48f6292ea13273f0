"""Recommender, similar() and Shuffler on a tiny catalogue: 3 red sneakers, 3 blue sandals, 3 black bags."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.profiles import Profile, update
from adlens.products.recommend import Recommender, Shuffler, fallback_order, similar
from adlens.products.types import DISLIKE, LIKE
from adlens.products.vectors import AspectIndex

GROUPS = {
    "sneaker": {"token:sneakers": 1.0, "token:red": 1.0, "colour:red": 0.7, "token:footwear": 1.0,
                "concept:running shoe": 0.8},
    "sandal": {"token:sandals": 1.0, "token:blue": 1.0, "colour:blue": 0.7, "token:footwear": 1.0},
    "bag": {"token:bags": 1.0, "token:black": 1.0, "colour:black": 0.7, "token:accessories": 1.0},
}
T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def catalogue() -> dict[str, dict[str, float]]:
    """Nine products, three per group; each has one private token so no two rows are equal."""
    return {f"{group}{i}": {**vector, f"token:style{group}{i}": 1.0} for group, vector in GROUPS.items() for i in range(3)}


def group(product_id: str) -> str:
    return product_id.rstrip("0123456789")


def profile_of(answers: list[tuple[str, int]]) -> dict[str, float]:
    vectors, profile = catalogue(), Profile()
    for product, value in answers:
        profile = update(profile, vectors[product], value, T0, half_life_days=30, dislike_weight=0.5)
    return profile.weights


@pytest.fixture
def recommender() -> Recommender:
    vectors = catalogue()
    return Recommender(AspectIndex(list(vectors), list(vectors.values())))


def test_two_liked_sneakers_bring_the_third_first(recommender):
    ranked = recommender.recommend(profile_of([("sneaker0", LIKE), ("sneaker1", LIKE)]), k=3,
                                   exclude={"sneaker0", "sneaker1"})
    first = ranked[0]
    assert first.product == "sneaker2" and first.score > 0.5 and not first.cold_start
    liked = first.reasons[0]
    assert liked.startswith("liked: ") and "red" in liked and "sneakers" in liked
    assert liked.count("red") == 1  # colour:red and token:red are one reason
    assert [group(r.product) for r in ranked[1:]] == ["sandal", "sandal"]  # share "footwear"


def test_concepts_read_as_looks_like():
    recommender = Recommender(AspectIndex(["a", "b"], [{"concept:running shoe": 1.0}, {"concept:running shoe": 1.0}]))
    assert recommender.recommend({"concept:running shoe": 1.0}, k=1, exclude={"a"})[0].reasons == [
        "looks like: running shoe"
    ]


def test_a_dislike_pushes_its_kind_to_the_bottom(recommender):
    ranked = recommender.recommend(profile_of([("sneaker0", LIKE), ("sandal0", DISLIKE)]), k=9)
    groups = [group(r.product) for r in ranked]
    assert groups == ["sneaker"] * 3 + ["bag"] * 3 + ["sandal"] * 3
    assert all(r.score < 0 for r in ranked[-3:])
    assert [r.reasons for r in ranked[3:]] == [["popular"]] * 6  # nothing shared: filled by popularity


@pytest.mark.parametrize("dislikes", [1, 6])
def test_many_dislikes_cannot_drown_a_like(recommender, dislikes):
    answers = [("sneaker0", LIKE)] + [(f"{g}{i % 3}", DISLIKE) for i, g in zip(range(dislikes), ["sandal", "bag"] * 3)]
    query = recommender.query(profile_of(answers))
    liked, disliked = np.linalg.norm(np.maximum(query, 0)), np.linalg.norm(np.minimum(query, 0))
    assert liked / disliked == pytest.approx(1 / recommender.dislike_balance, rel=1e-5)
    assert recommender.recommend(profile_of(answers), k=1, exclude={"sneaker0"})[0].product.startswith("sneaker")


@pytest.mark.parametrize(
    ("exclude", "allowed", "expected"),
    [
        ({"sneaker0", "sneaker1"}, None, {"sneaker2"}),
        (set(), {"sneaker1", "bag2"}, {"sneaker1", "bag2"}),
        ({"sneaker1"}, {"sneaker1", "bag2"}, {"bag2"}),
        (set(catalogue()), None, set()),
    ],
)
def test_exclusion_and_allowed(recommender, exclude, allowed, expected):
    ranked = recommender.recommend(profile_of([("sneaker0", LIKE)]), k=9, exclude=exclude, allowed=allowed)
    assert set(r.product for r in ranked) == set(catalogue()) - exclude if allowed is None else expected
    assert not {r.product for r in ranked} & exclude


@pytest.mark.parametrize(
    ("profile", "expected_first"),
    [({}, ["bag1", "sandal2"]), ({"token:unheard-of": 1.0}, ["bag1", "sandal2"]),
     (profile_of([("bag0", DISLIKE)]), ["sandal2"])],  # the popular bag looks like a dislike
)
def test_cold_start_ranks_by_popularity(recommender, profile, expected_first):
    popularity = {"sandal2": 5.0, "bag1": 9.0, "sneaker1": 7.0}
    ranked = recommender.recommend(profile, k=4, popularity=popularity, exclude={"sneaker1"})
    assert len(ranked) == 4 and all(r.cold_start and r.reasons == ["popular"] for r in ranked)
    assert [r.product for r in ranked[: len(expected_first)]] == expected_first


def test_cold_start_keeps_disliked_kind_last(recommender):
    ranked = recommender.recommend(profile_of([("bag0", DISLIKE)]), k=9, popularity={"bag1": 100.0})
    assert [group(r.product) for r in ranked[-3:]] == ["bag"] * 3 and ranked[-3].product == "bag1"
    assert all(r.cold_start for r in ranked)


def test_cold_start_without_popularity_is_deterministic(recommender):
    first = [r.product for r in recommender.recommend({}, k=9)]
    assert first == [r.product for r in recommender.recommend({}, k=9)]
    assert sorted(first) == sorted(catalogue())
    rank = fallback_order(list(catalogue()))
    assert sorted(rank.tolist()) == list(range(9))
    assert first == [p for _, p in sorted(zip(rank, catalogue()))]  # no popularity: ties in fallback order


@pytest.mark.parametrize("k", [0, -1])
def test_nothing_asked_nothing_given(recommender, k):
    assert recommender.recommend(profile_of([("sneaker0", LIKE)]), k=k) == []


def test_similar_by_embedding():
    ids = ["a", "b", "c", "d"]
    embeddings = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32)
    assert [i for i, _ in similar(embeddings, ids, "a", k=3)] == ["b", "c", "d"]
    (best, score), = similar(embeddings, ids, "c", k=1)
    assert best == "b" and score == pytest.approx(0.6)
    assert len(similar(embeddings, ids, "a", k=10)) == 3


@pytest.mark.parametrize(
    ("embeddings", "product", "error"),
    [(np.eye(4, dtype=np.float32), "zzz", NotFoundError), (np.eye(3, dtype=np.float32), "a", InvalidInputError)],
)
def test_similar_errors(embeddings, product, error):
    with pytest.raises(error):
        similar(embeddings, ["a", "b", "c", "d"], product, k=2)


def test_shuffler_cold_start_covers_the_families(recommender):
    shuffler = Shuffler(recommender, n_families=3)
    rng, rated = np.random.default_rng(0), set()
    for _ in range(3):
        rated.add(shuffler.next({}, rated, rng))
    assert sorted(map(group, rated)) == ["bag", "sandal", "sneaker"]
    assert len({shuffler.families[recommender.index.position(p)] for p in rated}) == 3


def test_shuffler_exploits_a_known_taste(recommender):
    shuffler = Shuffler(recommender, epsilon=0.0, n_families=3)
    rated = {"sneaker0", "bag0", "sandal0"}
    profile = profile_of([("sneaker0", LIKE), ("bag0", DISLIKE), ("sandal0", DISLIKE)])
    picks = {shuffler.next(profile, rated, np.random.default_rng(seed)) for seed in range(5)}
    assert picks == {"sneaker1"} or picks == {"sneaker2"}


def test_shuffler_explores_the_least_seen_family(recommender):
    shuffler = Shuffler(recommender, epsilon=1.0, explore_half_life=1e9, n_families=3,
                        popularity={"bag2": 3.0, "bag1": 1.0})
    rated = {"sneaker0", "sneaker1", "sandal0"}
    assert shuffler.next(profile_of([("sneaker0", LIKE)]), rated, np.random.default_rng(0)) == "bag2"
    assert shuffler.exploration_rate(0) == 1.0


def test_shuffler_stops_when_everything_is_rated(recommender):
    assert Shuffler(recommender).next({}, set(catalogue()), np.random.default_rng(0)) is None
