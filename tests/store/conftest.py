"""Store fixtures shared by the store's tests."""

from __future__ import annotations

import pytest

from adlens.store import Store
from builders import FUTURE, tokens
from helpers import scored_uplift


@pytest.fixture
def segmented(store: Store) -> Store:
    """Customers a, b (segment 0), c, d (segment 1), e (no segment), scored under "spring"; f is not scored."""
    for customer in "abcdef":
        store.add_customer(customer)
    store.replace_segments([{"label": "sporty"}, {"label": "classic"}], {"a": 0, "b": 0, "c": 1, "d": 1})
    scored_uplift(store, a=0.30, b=0.10, c=-0.05, d=-0.15, e=0.02)
    return store


@pytest.fixture
def enrolled(store: Store) -> Store:
    """ann (two embeddings, no expiry) and bob (one, consent until :data:`FUTURE`), enrolled."""
    for customer in ("ann", "bob"):
        store.add_customer(customer)
    store.enrol_member("ann", "yes, recognise me", None, tokens("a1", "a2"))
    store.enrol_member("bob", "ok until 2999", FUTURE, tokens("b1"))
    return store
