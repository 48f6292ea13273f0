"""The gallery tables in the store: consent, trimmed embeddings, unexpired rows, erasure; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.types import LIKE, Feedback, Product
from adlens.store import Store
from builders import FUTURE, tokens
from eventlog import decision_event
from adlens.store.models import CustomerRow, EventRow, FaceEmbeddingRow, FeedbackRow, GalleryMemberRow


def test_enrol_and_list(enrolled: Store) -> None:
    ann, bob = enrolled.gallery_members()
    assert (ann.customer, ann.consent_text, ann.expires_at, ann.embeddings) == ("ann", "yes, recognise me", None, 2)
    assert (bob.customer, bob.expires_at, bob.embeddings) == ("bob", FUTURE, 1)
    assert ann.consented_at.tzinfo is not None and ann.enrolled_at <= ann.updated_at
    ids, ciphertexts, expiries = enrolled.gallery_rows()
    assert (ids, ciphertexts, expiries) == (["ann", "ann", "bob"], tokens("a1", "a2", "b1"), [None, None, FUTURE])


def test_reenrolment_replaces_consent_and_keeps_the_newest(enrolled: Store) -> None:
    first = enrolled.gallery_members()[0]
    member = enrolled.enrol_member("ann", "new wording", FUTURE, tokens("a3", "a4"), keep=3)
    assert (member.consent_text, member.expires_at, member.embeddings) == ("new wording", FUTURE, 3)
    assert member.enrolled_at == first.enrolled_at and member.consented_at >= first.consented_at
    ids, ciphertexts, _ = enrolled.gallery_rows()
    assert ciphertexts[:3] == tokens("a2", "a3", "a4") and ids.count("ann") == 3


def test_expired_members_give_no_rows(enrolled: Store) -> None:
    ids, _, _ = enrolled.gallery_rows(now=FUTURE + timedelta(seconds=1))
    assert ids == ["ann", "ann"]
    assert [m.customer for m in enrolled.gallery_members()] == ["ann", "bob"]  # listed still, to be renewed or erased


@pytest.mark.parametrize(
    ("customer", "consent", "error", "message"),
    [("ghost", "yes", NotFoundError, "unknown customer 'ghost'"),
     ("ann", "  ", InvalidInputError, "consent text"),
     ("", "yes", InvalidInputError, "non-empty")],
)
def test_refused_enrolments_store_nothing(enrolled: Store, customer, consent, error, message) -> None:
    before = enrolled.gallery_version()
    with pytest.raises(error, match=message):
        enrolled.enrol_member(customer, consent, None, tokens("x"))
    assert enrolled.gallery_version() == before


def test_version_changes_with_every_change(enrolled: Store) -> None:
    seen = {enrolled.gallery_version()}
    enrolled.enrol_member("bob", "again", None, tokens("b2"))
    seen.add(enrolled.gallery_version())
    enrolled.enrol_member("bob", "again", None, tokens("b3"), keep=1)  # trim: count goes down
    seen.add(enrolled.gallery_version())
    enrolled.remove_customer("ann")
    seen.add(enrolled.gallery_version())
    assert len(seen) == 4 and enrolled.gallery_version() == enrolled.gallery_version()


def test_erasure_leaves_nothing_in_any_table(enrolled: Store) -> None:
    enrolled.upsert_product(Product("p1"))
    enrolled.add_feedback(Feedback("ann", "p1", LIKE, FUTURE - timedelta(days=1)))
    enrolled.append_events([decision_event(customer="ann"), decision_event(customer="bob"), decision_event()])
    assert enrolled.footprint("ann") == {"consent": 1, "embeddings": 2, "feedback": 1, "events": 1}
    enrolled.remove_customer("ann")
    assert enrolled.footprint("ann") == {"consent": 0, "embeddings": 0, "feedback": 0, "events": 0}
    with enrolled.transaction() as s:
        for column in (CustomerRow.id, GalleryMemberRow.customer_id, FaceEmbeddingRow.customer_id,
                       FeedbackRow.customer_id, EventRow.customer_id):
            assert s.scalar(select(func.count()).where(column == "ann")) == 0, column
        assert s.scalar(select(func.count()).select_from(EventRow)) == 2  # bob's and the anonymous one stay
    assert enrolled.gallery_rows()[0] == ["bob"]
