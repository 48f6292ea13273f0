"""Group commit of decision events: every event stored before its decision is answered, several per transaction
under load, a failure kept to its own decision, unwritten decisions counted for caps."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from adlens.ads.importer import import_inventory
from adlens.ads.loading import parse_inventory
from adlens.audience import Audience
from adlens.crypto import EmbeddingCipher
from adlens.decision import Decider
from adlens.decision.journal import Journal
from adlens.errors import StoreError
from adlens.events import DECISION, Event
from builders import make_faces, row_of_boxes
from eventlog import decision_event as logged_decision, play_event

#: One ad for a hat, shown once a day, and one for everyone.
INVENTORY = {"ads": [
    {"id": "caps", "name": "Caps", "daily_cap": 1, "targeting": {"attributes": {"hat": True}},
     "creatives": [{"id": "a", "image": "creative.png"}]},
    {"id": "coffee", "name": "Coffee", "creatives": [{"id": "a", "image": "creative.png"}]},
]}


def decision_event(n: int, ad: str | None = "caps", customer: str | None = None) -> Event:
    return logged_decision(screen="door", decision_id=f"decision-{n}", ad=ad, customer=customer)


def hat_wearer() -> Audience:
    faces = make_faces(row_of_boxes(1, side=100, gap=50), None, scores=1.0, age=np.array([30.0], np.float32),
                       gender="female", eyewear=0.0, beard=0.0, hat=0.95)
    return Audience.from_faces(faces, (1280, 720), "door")


class CountingStore:
    """``store`` with its event writes counted (transactions and events) and optionally failing."""

    def __init__(self, store: Any, fail_batches: bool = False, bad: str | None = None) -> None:
        self.store, self.fail_batches, self.bad = store, fail_batches, bad
        self.transactions: list[int] = []

    def append_events(self, events: list[Event]) -> list[int]:
        self.transactions.append(len(events))
        if self.fail_batches and len(events) > 1:
            raise StoreError("the batch failed")
        return self.store.append_events(events)

    def append_event(self, event: Event) -> int:
        if event.decision_id == self.bad:
            raise StoreError(f"{event.decision_id} cannot be written")
        return self.append_events([event])[0]


def test_an_event_alone_is_written_at_once_and_its_id_returned(store: Any) -> None:
    journal = Journal(store)
    event_id = journal.append(decision_event(1))
    assert store.decision_event("decision-1").id == event_id
    assert journal.pending("caps") == 0


def test_reserved_events_count_as_pending_until_committed(store: Any) -> None:
    journal = Journal(store)
    first, second = journal.reserve(decision_event(1)), journal.reserve(decision_event(2, customer="c1"))
    journal.reserve(play_event(screen="door", decision_id="decision-1", ad="caps", value=1.0))
    assert journal.pending("caps") == 2 and journal.pending("caps", "c1") == 1 and journal.pending("other") == 0
    journal.wait(second)  # writes every reserved event, the play too, in one transaction
    assert first.done and journal.pending("caps") == 0 and journal.pending("caps", "c1") == 0
    assert {e.decision_id for e in store.events()} == {"decision-1", "decision-2"}


def test_concurrent_decisions_lose_no_event_and_write_none_twice(store: Any) -> None:
    counting = CountingStore(store)
    journal = Journal(counting)  # type: ignore[arg-type]
    start = threading.Barrier(8)
    ids: list[int] = []

    def decide(worker: int) -> None:
        start.wait()
        for n in range(25):
            ids.append(journal.append(decision_event(100 * worker + n)))

    threads = [threading.Thread(target=decide, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 200 and sum(counting.transactions) == 200
    assert len(store.events(kinds=[DECISION])) == 200


def test_a_failing_event_fails_only_its_own_decision(store: Any) -> None:
    journal = Journal(CountingStore(store, fail_batches=True, bad="decision-2"))  # type: ignore[arg-type]
    tickets = [journal.reserve(decision_event(n)) for n in range(1, 4)]
    assert journal.wait(tickets[0]) > 0 and journal.wait(tickets[2]) > 0
    with pytest.raises(StoreError, match="decision-2 cannot be written"):
        journal.wait(tickets[1])
    assert {e.decision_id for e in store.events()} == {"decision-1", "decision-3"}
    assert journal.pending("caps") == 0


def test_a_decision_not_yet_written_counts_for_the_daily_cap(store: Any, tmp_path: Path, data_dir: Path) -> None:
    cv2.imwrite(str(tmp_path / "creative.png"), np.full((90, 160, 3), 128, np.uint8))
    assert not import_inventory(store, parse_inventory(INVENTORY, tmp_path, "test"), cipher=EmbeddingCipher()).problems
    decider = Decider(store)
    first, ticket = decider.choose(hat_wearer())
    assert first.ad == "caps" and ticket is not None
    second, later = decider.choose(hat_wearer())  # the first is still unwritten
    assert second.ad == "coffee"
    assert "daily cap" in " ".join(next(c for c in second.candidates if c.ad == "caps").reasons)
    for waiting in (ticket, later):
        assert waiting is not None
        decider.journal.wait(waiting)
    assert store.decision_event(first.decision_id).ad_id == "caps"
    assert decider.choose(hat_wearer(), log=False)[1] is None
