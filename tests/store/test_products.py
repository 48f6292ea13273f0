"""The catalogue part of the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import numpy as np
import pytest

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.types import LIKE, Aspects, Feedback, Prediction, Product
from adlens.store import Store
from adlens.store.models import AspectRow


def make_product(pid: str = "p1", name: str = "Red sandal", dim: int = 8, **aspects: dict) -> Product:
    """A small product with a unit-norm embedding of ``dim`` and the given aspect dicts."""
    rng = np.random.default_rng(zlib.crc32(pid.encode()))
    embedding = rng.normal(size=dim).astype(np.float32)
    embedding /= np.linalg.norm(embedding)
    return Product(
        id=pid,
        name=name,
        attributes={"category": "Footwear", "note": "été — 夏 ✓", "sizes": [38, 39]},
        image=f"images/{pid}.jpg",
        image_sha256="a" * 64,
        aspects=Aspects(
            aspects.get("concepts", {"sandal": 0.8}),
            aspects.get("colours", {"red": 0.6}),
            aspects.get("tokens", {"leather": 1.0}),
            embedding,
        ),
        predicted={"season": Prediction("Summer", 0.75)},
    )


def _aspect_count(store: Store, pid: str) -> int:
    with store.transaction() as session:
        return session.query(AspectRow).filter_by(product_id=pid).count()


def test_upsert_created_updated_unchanged(store: Store) -> None:
    product = make_product()
    assert store.upsert_product(product) == "created"
    assert store.upsert_product(make_product()) == "unchanged"
    first = store.get_product("p1")
    assert store.upsert_product(make_product(name="Blue sandal")) == "updated"
    second = store.get_product("p1")
    assert second.name == "Blue sandal"
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at


@pytest.mark.parametrize(
    "change",
    [
        {"colours": {"blue": 0.6}},
        {"tokens": {"leather": 0.5}},
        {"concepts": {}},
    ],
)
def test_aspect_change_is_an_update(store: Store, change: dict) -> None:
    store.upsert_product(make_product())
    assert store.upsert_product(make_product(**change)) == "updated"


def test_aspects_are_replaced_not_duplicated(store: Store) -> None:
    store.upsert_product(make_product(colours={"red": 0.6, "white": 0.2}))
    assert _aspect_count(store, "p1") == 4
    store.upsert_product(make_product(colours={"navy blue": 0.9}, tokens={}))
    assert _aspect_count(store, "p1") == 2
    assert store.get_product("p1").aspects.vector() == {"concept:sandal": 0.8, "colour:navy blue": 0.9}


def test_round_trip_of_every_field(store: Store) -> None:
    product = make_product(dim=1024)
    store.upsert_product(product)
    stored = store.get_product("p1")
    assert stored.attributes == product.attributes
    assert stored.attributes["note"] == "été — 夏 ✓"
    assert stored.predicted == {"season": Prediction("Summer", 0.75)}
    assert stored.aspects.vector() == product.aspects.vector()
    assert stored.aspects.embedding.dtype == np.float32
    np.testing.assert_array_equal(stored.aspects.embedding, product.aspects.embedding)
    assert (stored.image, stored.image_sha256) == (product.image, product.image_sha256)


def test_product_without_photo(store: Store) -> None:
    store.upsert_product(Product("bare"))
    stored = store.get_product("bare")
    assert stored.aspects.embedding is None and stored.aspects.vector() == {}
    assert store.embeddings()[0] == []


def test_get_products_keeps_order_and_names_unknown(store: Store) -> None:
    for pid in ("a", "b", "c"):
        store.upsert_product(make_product(pid))
    assert [p.id for p in store.get_products(["c", "a", "b"])] == ["c", "a", "b"]
    with pytest.raises(NotFoundError, match="'x'.*'y'"):
        store.get_products(["a", "x", "y"])
    with pytest.raises(NotFoundError, match="unknown product 'nope'"):
        store.get_product("nope")
    assert store.has_products(["a", "x"]) == {"a"}


@pytest.mark.parametrize(
    ("offset", "limit", "search", "expected"),
    [
        (0, 50, None, ["a1", "a2", "b1", "b_2"]),
        (1, 2, None, ["a2", "b1"]),
        (0, 50, "A", ["a1", "a2", "b1"]),  # "a1", "a2" by id, "Red Sandal" by name
        (0, 50, "SANDAL", ["b1"]),
        (0, 50, "_", ["b_2"]),  # a literal underscore, not a LIKE wildcard
        (0, 50, "zzz", []),
    ],
)
def test_list_products(store: Store, offset: int, limit: int, search: str | None, expected: list) -> None:
    for pid, name in (("a1", "Shirt"), ("a2", "Shirt"), ("b1", "Red Sandal"), ("b_2", "Shoe")):
        store.upsert_product(Product(pid, name))
    assert [p.id for p in store.list_products(offset, limit, search)] == expected
    assert store.count_products() == 4


def test_list_products_refuses_bad_page(store: Store) -> None:
    with pytest.raises(InvalidInputError):
        store.list_products(offset=-1)


def test_remove_product_cascades(store: Store) -> None:
    store.upsert_product(make_product("p1"))
    store.upsert_product(make_product("p2"))
    store.add_customer("c1")
    store.add_feedback(Feedback("c1", "p1", LIKE, datetime.now(UTC)))
    store.add_feedback(Feedback("c1", "p2", LIKE, datetime.now(UTC)))
    store.remove_product("p1")
    assert _aspect_count(store, "p1") == 0
    assert store.rated_products("c1") == {"p2"}
    assert store.count_products() == 1
    with pytest.raises(NotFoundError, match="unknown product 'p1'"):
        store.remove_product("p1")


def test_bulk_views(store: Store) -> None:
    store.upsert_product(make_product("b", colours={"blue": 0.5}))
    store.upsert_product(make_product("a"))
    store.upsert_product(Product("c"))
    ids, vectors = store.aspect_rows()
    assert ids == ["a", "b", "c"]
    assert vectors[1] == {"concept:sandal": 0.8, "colour:blue": 0.5, "token:leather": 1.0}
    assert vectors[2] == {}
    ids, matrix = store.embeddings()
    assert ids == ["a", "b"] and matrix.shape == (2, 8) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], make_product("a").aspects.embedding)
    assert store.product_image_hashes() == {"a": "a" * 64, "b": "a" * 64, "c": None}


@pytest.mark.parametrize(
    "product",
    [
        Product(""),
        Product("x" * 129),
        Product("p", aspects=Aspects(tokens={"w" * 300: 1.0})),
        Product("p", attributes={"bad": object()}),
        Product("p", attributes={"size": float("nan")}),
    ],
)
def test_invalid_products_are_refused(store: Store, product: Product) -> None:
    with pytest.raises(InvalidInputError):
        store.upsert_product(product)
    assert store.count_products() == 0


def test_media_folders_and_product_images(store):
    store.add_media_folders(["/shop/photos", "/shop/photos", ""])
    store.add_media_folders(["/shop/photos", "/shop/more"])
    assert store.media_folders() == {"/shop/photos", "/shop/more"}
    store.upsert_product(Product("a", "A", image="/shop/photos/a.png"))
    store.upsert_product(Product("b", "B"))
    assert store.product_images() == {"/shop/photos/a.png"}
