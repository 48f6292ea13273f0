"""Taste profiles: likes pull, dislikes push, old answers decay, build equals folded updates."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from adlens.errors import InvalidInputError
from adlens.products.profiles import MAX_ASPECTS, Profile, build, decay_factor, is_cold, update
from adlens.products.types import DISLIKE, LIKE, Feedback

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
HALF_LIFE = 30.0
RED_SNEAKER = {"token:sneakers": 1.0, "colour:red": 1.0}
BLUE_SANDAL = {"token:sandals": 1.0, "colour:blue": 1.0}
VECTORS = {"s1": RED_SNEAKER, "d1": BLUE_SANDAL, "s2": {"token:sneakers": 1.0, "colour:white": 1.0}}


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def step(profile: Profile, vector: dict, value: int, at: datetime) -> Profile:
    return update(profile, vector, value, at, half_life_days=HALF_LIFE, dislike_weight=0.5)


def test_like_adds_the_normalised_vector():
    profile = step(Profile(), RED_SNEAKER, LIKE, T0)
    assert profile.weights == pytest.approx({"token:sneakers": 1 / math.sqrt(2), "colour:red": 1 / math.sqrt(2)})
    assert profile.updated_at == T0 and profile.count == 1


def test_dislike_pushes_away_with_its_weight():
    profile = step(Profile(), BLUE_SANDAL, DISLIKE, T0)
    assert profile.weights == pytest.approx({"token:sandals": -0.5 / math.sqrt(2), "colour:blue": -0.5 / math.sqrt(2)})
    assert is_cold(profile.weights)


@pytest.mark.parametrize(("age_days", "factor"), [(0, 1.0), (30, 0.5), (60, 0.25), (-5, 1.0)])
def test_decay_factor(age_days, factor):
    assert decay_factor(age_days, HALF_LIFE) == pytest.approx(factor)


def test_weights_halve_after_one_half_life():
    first = step(Profile(), RED_SNEAKER, LIKE, T0)
    later = step(first, BLUE_SANDAL, LIKE, days(HALF_LIFE))
    assert later.weights["token:sneakers"] == pytest.approx(first.weights["token:sneakers"] / 2)
    assert later.weights["token:sandals"] == pytest.approx(1 / math.sqrt(2))
    assert later.updated_at == days(HALF_LIFE) and later.count == 2


def test_out_of_order_answer_is_decayed_itself():
    latest = step(Profile(), RED_SNEAKER, LIKE, days(HALF_LIFE))
    late_arrival = step(latest, BLUE_SANDAL, LIKE, T0)
    in_order = step(step(Profile(), BLUE_SANDAL, LIKE, T0), RED_SNEAKER, LIKE, days(HALF_LIFE))
    assert late_arrival.updated_at == days(HALF_LIFE)
    assert late_arrival.weights == pytest.approx(in_order.weights)


def test_naive_datetimes_are_utc():
    aware = step(step(Profile(), RED_SNEAKER, LIKE, T0), BLUE_SANDAL, LIKE, days(10))
    naive = step(step(Profile(), RED_SNEAKER, LIKE, T0.replace(tzinfo=None)), BLUE_SANDAL, LIKE,
                 days(10).replace(tzinfo=None))
    assert naive.weights == pytest.approx(aware.weights)


def test_profile_is_capped_and_near_zero_weights_dropped():
    profile = Profile()
    for i in range(MAX_ASPECTS + 50):  # older aspects have decayed more: they go first
        profile = step(profile, {f"token:t{i}": 1.0}, LIKE, days(i / 100))
    assert len(profile.weights) == MAX_ASPECTS
    assert "token:t49" not in profile.weights and f"token:t{MAX_ASPECTS + 49}" in profile.weights
    full = Profile({f"token:t{i}": 1.0 for i in range(MAX_ASPECTS)}, T0, MAX_ASPECTS)
    tied = step(full, {"token:new": 1.0}, LIKE, T0)  # a tie: the fresh answer wins
    assert "token:new" in tied.weights and len(tied.weights) == MAX_ASPECTS
    forgotten = step(step(Profile(), RED_SNEAKER, LIKE, T0), BLUE_SANDAL, LIKE, days(40 * HALF_LIFE))
    assert set(forgotten.weights) == set(map("{}".format, BLUE_SANDAL))


def test_like_then_equal_dislike_cancels():
    profile = update(step(Profile(), RED_SNEAKER, LIKE, T0), RED_SNEAKER, DISLIKE, T0,
                     half_life_days=HALF_LIFE, dislike_weight=1.0)
    assert profile.weights == {} and profile.count == 2


def events() -> list[Feedback]:
    return [
        Feedback("c", "s1", LIKE, days(0)),
        Feedback("c", "d1", DISLIKE, days(3)),
        Feedback("c", "s2", LIKE, days(10)),
        Feedback("c", "gone", LIKE, days(11)),  # no vector any more: skipped
        Feedback("c", "s1", LIKE, days(45)),
    ]


def test_build_equals_folded_updates_in_time_order():
    shuffled = events()
    random.Random(1).shuffle(shuffled)
    built = build(shuffled, VECTORS, half_life_days=HALF_LIFE, dislike_weight=0.5)
    folded = Profile()
    for event in events():
        if event.product in VECTORS:
            folded = step(folded, VECTORS[event.product], event.value, event.at)
    assert built == folded
    assert built.count == 4 and built.updated_at == days(45)


def test_build_matches_closed_form():
    built = build(events(), VECTORS, half_life_days=HALF_LIFE, dislike_weight=0.5)
    expected: dict[str, float] = {}
    for event in events():
        if event.product not in VECTORS:
            continue
        strength = (1.0 if event.value == LIKE else -0.5) * 0.5 ** ((45 - (event.at - T0).days) / HALF_LIFE)
        for key, weight in VECTORS[event.product].items():
            expected[key] = expected.get(key, 0.0) + strength * weight / math.sqrt(2)
    assert built.weights == pytest.approx(expected)


def test_settings_supply_missing_knobs():
    from adlens.settings import get_settings

    settings = get_settings()
    assert update(Profile(), RED_SNEAKER, LIKE, T0) == update(
        Profile(), RED_SNEAKER, LIKE, T0, settings.profile_half_life_days, settings.dislike_weight
    )


@pytest.mark.parametrize(
    ("value", "half_life", "dislike", "message"),
    [(0, HALF_LIFE, 0.5, "must be \\+1"), (2, HALF_LIFE, 0.5, "must be \\+1"),
     (LIKE, 0.0, 0.5, "half-life"), (LIKE, HALF_LIFE, -1.0, "dislike weight")],
)
def test_invalid_arguments(value, half_life, dislike, message):
    with pytest.raises(InvalidInputError, match=message):
        update(Profile(), RED_SNEAKER, value, T0, half_life_days=half_life, dislike_weight=dislike)


def test_json_round_trip():
    profile = build(events(), VECTORS, half_life_days=HALF_LIFE, dislike_weight=0.5)
    assert Profile.from_dict(profile.to_dict()) == profile
    assert Profile.from_dict(Profile().to_dict()) == Profile()
