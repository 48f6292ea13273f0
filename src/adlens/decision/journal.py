"""Decision events written to the store several to a transaction (group commit), each acknowledged once stored.

A decision's event must be in the store before the decision is answered (a reward may
follow at once, from any process). Written one per transaction under the decision lock,
each costs a whole transaction and holds the lock through the commit. The
:class:`Journal` splits the two: under the lock a decision only *reserves* its event
(:meth:`Journal.reserve`, in memory); after the lock each decision *waits* for it
(:meth:`Journal.wait`). The first waiter finding no write under way writes every
reserved event in one transaction, then the ones reserved meanwhile, and so on, while
the others wait for theirs: under load one commit serves many decisions, alone a
decision writes its own at once, as before. Nothing is answered before its event is
committed, so durability is unchanged; an event whose batch fails is written again
alone, so one bad event fails only its own decision.

Events reserved and not yet committed are counted for daily and per-person caps
(:meth:`Journal.pending`), so a decision made while an earlier one is still being
written sees it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adlens.events import DECISION, Event

if TYPE_CHECKING:
    from adlens.store import Store

#: The most events one transaction writes.
MAX_BATCH = 256


@dataclass(eq=False)
class Ticket:
    """One reserved event; :meth:`Journal.wait` gives its id once committed."""

    event: Event
    event_id: int | None = None
    error: BaseException | None = None
    done: bool = field(default=False)


class Journal:
    """Group commit of events over ``store`` (see the module docstring); thread-safe."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: list[Ticket] = []
        self._writing = False
        self._changed = threading.Condition()
        self._pending: Counter[tuple[str | None, str | None]] = Counter()

    def reserve(self, event: Event) -> Ticket:
        """Queue ``event`` to be written; counted by :meth:`pending` from now until it is committed."""
        ticket = Ticket(event)
        with self._changed:
            self._queue.append(ticket)
            self._count(event, +1)
        return ticket

    def pending(self, ad_id: str, customer_id: str | None = None) -> int:
        """How many decision events for ``ad_id`` (and ``customer_id``, when given) are reserved and not yet
        committed."""
        with self._changed:
            return self._pending[(ad_id, customer_id)]

    def append(self, event: Event) -> int:
        """Write ``event`` and return its id once committed: :meth:`reserve` and :meth:`wait`."""
        return self.wait(self.reserve(event))

    def wait(self, ticket: Ticket) -> int:
        """The id of ``ticket``'s event once committed; its error (a :class:`~adlens.errors.StoreError`…) if
        it could not be written. The caller may write a batch meanwhile (see the module docstring)."""
        with self._changed:
            while not ticket.done:
                if self._writing:
                    self._changed.wait()
                    continue
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
                self._writing = True
                self._changed.release()
                try:
                    self._write(batch)
                finally:
                    self._changed.acquire()
                    self._writing = False
                    for done in batch:
                        done.done = True
                        self._count(done.event, -1)
                    self._changed.notify_all()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.event_id is not None
        return ticket.event_id

    def _write(self, batch: list[Ticket]) -> None:
        """Write ``batch`` in one transaction; if that fails, each event alone, so a failure is its own."""
        try:
            ids = self.store.append_events([t.event for t in batch])
        except BaseException as error:  # noqa: BLE001 - handed to the waiting decisions
            if len(batch) == 1:
                batch[0].error = error
                return
            for ticket in batch:
                try:
                    ticket.event_id = self.store.append_event(ticket.event)
                except BaseException as alone:  # noqa: BLE001 - handed to this event's decision
                    ticket.error = alone
            return
        for ticket, event_id in zip(batch, ids, strict=True):
            ticket.event_id = event_id

    def _count(self, event: Event, step: int) -> None:
        if event.kind != DECISION or event.ad_id is None:
            return
        for key in {(event.ad_id, None), (event.ad_id, event.customer_id)}:
            self._pending[key] += step
            if not self._pending[key]:
                del self._pending[key]
