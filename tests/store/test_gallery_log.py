"""The gallery change log: which embeddings each change touched, deltas, owners by id; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adlens.errors import NotFoundError
from adlens.store import Store
from builders import FUTURE, tokens
from adlens.store import gallery_log


def embedding_ids(store: Store, customer: str) -> list[int]:
    ids, customers, _ = store.gallery_embeddings()
    return [i for i, c in zip(ids, customers) if c == customer]


def test_every_change_is_logged_without_naming_anyone(enrolled: Store) -> None:
    ann, bob = embedding_ids(enrolled, "ann"), embedding_ids(enrolled, "bob")
    head = enrolled.gallery_head()
    assert enrolled.gallery_changes(0) == (head, sorted(ann + bob))
    enrolled.enrol_member("ann", "again", None, tokens("a3"), keep=2)  # adds a3, trims a1, refreshes a2
    after = enrolled.gallery_changes(head)
    assert after is not None and after[0] > head
    assert after[1] == sorted(ann + embedding_ids(enrolled, "ann")[-1:])
    assert enrolled.gallery_embeddings(ids=after[1])[0] == embedding_ids(enrolled, "ann")  # a1 is gone
    head = after[0]
    enrolled.remove_customer("bob")
    assert enrolled.gallery_changes(head) == (enrolled.gallery_head(), bob)
    assert enrolled.gallery_changes(enrolled.gallery_head()) == (enrolled.gallery_head(), [])


def test_refused_changes_log_nothing(enrolled: Store) -> None:
    head = enrolled.gallery_head()
    with pytest.raises(NotFoundError):
        enrolled.enrol_member("ghost", "yes", None, tokens("x"))
    assert enrolled.gallery_head() == head


@pytest.mark.parametrize(("after", "available"), [(0, False), (-5, False), ("head", True), ("ahead", False)])
def test_delta_unavailable_when_pruned_or_ahead(enrolled: Store, monkeypatch, after, available) -> None:
    monkeypatch.setattr(gallery_log, "LOG_KEEP", 2)
    enrolled.enrol_member("bob", "again", FUTURE, tokens("b2"))  # prunes all but the newest two log rows
    head = enrolled.gallery_head()
    position = {"head": head - 1, "ahead": head + 1}.get(after, after)
    assert (enrolled.gallery_changes(position) is not None) == available


def test_owners_leave_out_erased_and_expired(enrolled: Store) -> None:
    ann, bob = embedding_ids(enrolled, "ann"), embedding_ids(enrolled, "bob")
    assert enrolled.gallery_owners(ann + bob + [10_000]) == {ann[0]: "ann", ann[1]: "ann", bob[0]: "bob"}
    assert enrolled.gallery_owners(ann + bob, now=FUTURE + timedelta(seconds=1)) == {i: "ann" for i in ann}
    enrolled.remove_customer("ann")
    assert enrolled.gallery_owners(ann + bob) == {bob[0]: "bob"}
    assert enrolled.gallery_owners([]) == {}


def test_embeddings_by_id_in_id_order(enrolled: Store) -> None:
    ids, customers, ciphertexts = enrolled.gallery_embeddings()
    assert ids == sorted(ids) and customers == ["ann", "ann", "bob"] and ciphertexts == tokens("a1", "a2", "b1")
    assert enrolled.gallery_embeddings(now=FUTURE)[1] == ["ann", "ann"]
    assert enrolled.gallery_embeddings(ids=[ids[2], ids[0], 99_999]) == ([ids[0], ids[2]], ["ann", "bob"],
                                                                          tokens("a1", "b1"))


def test_enrolments_and_erasures_of_one_member_at_once_never_deadlock(enrolled: Store) -> None:
    import threading

    errors: list[Exception] = []

    def repeat(work) -> None:
        for _ in range(8):
            try:
                work()
            except NotFoundError:
                pass  # erased just before: the enrolment is refused, as it should be
            except Exception as error:  # noqa: BLE001 - a deadlock or lock timeout is what this test looks for
                errors.append(error)

    def erase_and_return() -> None:
        enrolled.remove_customer("ann")
        enrolled.add_customer("ann")

    threads = [threading.Thread(target=repeat, args=(lambda: enrolled.enrol_member("ann", "yes", None,
                                                                                   tokens("x")),)),
               threading.Thread(target=repeat, args=(erase_and_return,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids, customers, _ = enrolled.gallery_embeddings()
    changes = enrolled.gallery_changes(0)
    assert changes is not None and set(ids) <= set(changes[1])  # every embedding held was logged
