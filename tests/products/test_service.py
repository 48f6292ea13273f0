"""Feedback → profiles → recommendations, similar products and segments, over a real store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from adlens.errors import InvalidInputError, InvalidTimeError, NotFoundError
from adlens.products import profiles
from adlens.products.catalog import RowProblem
from adlens.products.service import Shop
from adlens.products.types import DISLIKE, LIKE, Aspects, Feedback, Product

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
KINDS = {"r": ("red", "sneakers"), "b": ("blue", "sandals"), "k": ("black", "bag")}


def synthetic_product(product_id: str) -> Product:
    """``r1``..: red sneakers; ``b1``..: blue sandals; ``k1``..: black bags (embedding by kind)."""
    colour, kind = KINDS[product_id[0]]
    embedding = np.zeros(4, np.float32)
    embedding[list(KINDS).index(product_id[0])] = 1.0
    embedding[3] = int(product_id[1:]) * 0.05
    return Product(product_id, f"{colour} {kind} {product_id}",
                   {"articleType": kind, "baseColour": colour},
                   aspects=Aspects(colours={colour: 1.0}, tokens={colour: 1.0, kind: 1.0},
                                   embedding=embedding / np.linalg.norm(embedding)))


@pytest.fixture()
def shop(store):
    for prefix in KINDS:
        for n in range(1, 5):
            store.upsert_product(synthetic_product(f"{prefix}{n}"))
    return Shop(store)


def test_likes_pull_and_reasons_name_the_shared_aspects(shop):
    shop.add_customer("ann")
    shop.add_feedback("ann", "r1", LIKE, at=T0)
    profile = shop.add_feedback("ann", "r2", LIKE, at=T0)
    assert profile.count == 2
    result = shop.recommend("ann", k=3)
    assert not result.cold_start
    assert {r.product for r in result.items[:2]} == {"r3", "r4"}
    assert "r1" not in {r.product for r in result.items}  # rated products are left out
    assert any("red" in reason and "sneakers" in reason for reason in result.items[0].reasons)
    assert result.names["r3"] == "red sneakers r3"


def test_a_dislike_pushes_a_kind_to_the_bottom(shop):
    shop.add_customer("bob")
    shop.add_feedback("bob", "r1", LIKE, at=T0)
    shop.add_feedback("bob", "b1", DISLIKE, at=T0)
    ranked = [r.product for r in shop.recommend("bob", k=11).items]
    assert set(ranked[:3]) == {"r2", "r3", "r4"}
    assert set(ranked[-3:]) == {"b2", "b3", "b4"}


def test_cold_start_shows_popular_products_and_says_so(shop):
    shop.add_customer("new")
    for name in ("x", "y"):
        shop.add_feedback(name, "k2", LIKE, at=T0, create_customer=True)
    result = shop.recommend("new", k=3)
    assert result.cold_start and "most liked" in result.note
    assert result.items[0].product == "k2" and result.items[0].reasons == ["popular"]


def test_unknown_ids_are_clear_errors(shop):
    with pytest.raises(NotFoundError, match="customers add ghost"):
        shop.add_feedback("ghost", "r1", LIKE)
    shop.add_customer("ann")
    with pytest.raises(NotFoundError, match="unknown product 'nope'"):
        shop.add_feedback("ann", "nope", LIKE)
    assert shop.store.count_feedback() == 0  # nothing half-written
    with pytest.raises(NotFoundError):
        shop.recommend("ghost")


def test_older_feedback_decays(shop, store):
    shop.add_customer("cat")
    shop.add_feedback("cat", "b1", LIKE, at=T0)
    shop.add_feedback("cat", "r1", LIKE, at=T0 + timedelta(days=shop.settings.profile_half_life_days))
    weights = store.get_customer("cat").profile
    assert weights["token:red"] == pytest.approx(2 * weights["token:blue"])


def test_batch_import_matches_one_by_one(shop, store):
    answers = [(2, Feedback("ann", "r1", LIKE, T0)), (3, Feedback("ann", "b1", DISLIKE, T0 + timedelta(days=1))),
               (4, Feedback("ann", "zz", LIKE, T0)), RowProblem(5, None, "bad"), (6, Feedback("eve", "k1", LIKE, T0))]
    report = shop.import_feedback(answers)
    assert report.added == 0 and store.count_feedback() == 0  # ann is not a customer yet
    shop.add_customer("ann")
    report = shop.import_feedback(answers)
    assert (report.added, report.customers) == (2, 1)
    assert [(p.line, p.kind) for p in report.problems] == [(4, "unknown id"), (5, "bad record"), (6, "unknown id")]
    batch = store.get_customer("ann").profile
    shop.add_customer("one")
    shop.add_feedback("one", "r1", LIKE, at=T0)
    shop.add_feedback("one", "b1", DISLIKE, at=T0 + timedelta(days=1))
    assert store.get_customer("one").profile == pytest.approx(batch)
    report = shop.import_feedback(answers[-1:], create_customers=True)
    assert report.added == 1 and "eve" in store.customer_ids()


def test_similar_ranks_by_photo(shop):
    ranked = shop.similar("b1", k=3)
    assert [pid for pid, _ in ranked] == ["b2", "b3", "b4"]
    with pytest.raises(NotFoundError):
        shop.similar("nope")


def test_segments_are_found_stored_and_plotted(shop, store, tmp_path):
    for n, prefix in enumerate("rrrbbbkkk"):
        customer = f"c{n}"
        shop.add_feedback(customer, f"{prefix}{1 + n % 3}", LIKE, at=T0, create_customer=True)
        shop.add_feedback(customer, f"{prefix}4", LIKE, at=T0)
    result = shop.segment(plot=tmp_path / "plot" / "segments.png")
    assert result["n_segments"] == 3 and result["n_customers"] == 9
    assert sorted(s["size"] for s in result["segments"]) == [3, 3, 3]
    labels = " ".join(s["label"] for s in result["segments"])
    assert "red" in labels and "sandals" in labels
    assert (tmp_path / "plot" / "segments.png").stat().st_size > 1000
    segment_of = {c.id: c.segment_id for c in store.list_customers()}
    assert segment_of["c0"] == segment_of["c1"] != segment_of["c3"]


def test_segments_need_enough_customers(shop):
    shop.add_feedback("solo", "r1", LIKE, at=T0, create_customer=True)
    with pytest.raises(InvalidInputError, match="at least"):
        shop.segment()


def test_recommend_on_an_empty_catalogue(store):
    store.add_customer("ann")
    with pytest.raises(InvalidInputError, match="catalogue is empty"):
        Shop(store).recommend("ann")


def test_concurrent_answers_all_reach_the_profile(shop, store):
    """N threads × M answers at once: each profile equals the fold of its stored rows (none lost)."""
    customers, answers = ("ann", "bob"), 6
    for customer in customers:
        shop.add_customer(customer)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def answer(worker: int) -> None:
        start.wait()
        try:
            for n in range(answers):
                product = f"{'rbk'[(worker + n) % 3]}{1 + n % 4}"
                value = LIKE if (worker + n) % 4 else DISLIKE
                shop.add_feedback(customers[worker % 2], product, value, at=T0 + timedelta(hours=worker * 10 + n))
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    workers = [threading.Thread(target=answer, args=(w,)) for w in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    vectors = {p.id: p.aspects.vector() for p in store.get_products({f"{k}{n}" for k in KINDS for n in range(1, 5)})}
    for customer in customers:
        rows = store.feedback_for(customer)
        stored = store.get_customer(customer)
        assert len(rows) == 4 * answers and stored.feedback_count == len(rows)
        folded = profiles.build(rows, vectors, shop.settings.profile_half_life_days, shop.settings.dislike_weight)
        assert stored.profile == pytest.approx(folded.weights)


def test_a_profile_stamped_at_an_impossible_time_still_learns(shop, store):
    """An answer an older adlens took for 9999 must not decay every later answer to nothing."""
    shop.add_customer("ann")
    store.save_profile("ann", {"token:blue": 1.0}, datetime(9999, 12, 31, tzinfo=timezone.utc), 1)
    profile = shop.add_feedback("ann", "r1", LIKE)
    assert profile.weights["token:red"] > 0.4 and profile.count == 2
    with pytest.raises(InvalidTimeError, match="^at 9999"):
        shop.add_feedback("ann", "r1", LIKE, at=datetime(9999, 12, 31, tzinfo=timezone.utc))
