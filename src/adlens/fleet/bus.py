"""Store changes reach every worker at once: the store's generations over Redis publish/subscribe.

Each commit that changes a topic (``ads``, ``arms``, ``gallery``, ``segments``,
``uplift``, ``keys``: a revocation; see :meth:`~adlens.store.base.StoreBase.generation`) is published on one
channel as ``{"from": <this process>, "topics": [...]}``. Every worker subscribes in a
background thread and, on a message from another process, moves its own store's
generations (:meth:`~adlens.store.base.StoreBase.moved`) and tells its
:attr:`GenerationBus.listeners`: its caches (the decision engine's inventory and arms
by the generations, the API's key checker, the gallery's index through :meth:`Gallery.changed
<adlens.gallery.service.Gallery.changed>`) read the store again on their next use
instead of after their refresh period.

A message can be missed (Redis restarted, the connection dropped): the caches' refresh
period stays the fallback, and on every (re)subscription the worker moves all its
generations, so whatever changed while it was deaf is re-read.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adlens.fleet.client import RETRY_SECONDS, Outage, redis_errors
from adlens.store.base import TOPICS

if TYPE_CHECKING:
    from adlens.fleet.client import Fleet
    from adlens.settings import Settings
    from adlens.store.base import StoreBase

log = logging.getLogger("adlens.fleet")

#: Seconds the listening thread waits for a message before it looks whether it should stop.
POLL_SECONDS = 0.2


class GenerationBus:
    """Publishes ``store``'s changes and applies everyone else's (see the module docstring).

    :meth:`start` hooks the store and starts the listener; :meth:`close` undoes both.
    """

    def __init__(self, fleet: Fleet, store: StoreBase) -> None:
        self.fleet, self.store = fleet, store
        self.channel = fleet.key("generations")
        self.origin = uuid.uuid4().hex
        self.received = 0  # messages from other processes applied (for tests and logs)
        #: Called with the topics each notice (or a re-subscription: every topic) moved, after the store's
        #: generations: for caches that do not read them (the gallery's index, :meth:`Gallery.changed`).
        self.listeners: list[Callable[[frozenset[str]], None]] = []
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._errors = redis_errors()
        self._publishing = Outage("store change notices", "other workers see changes within their refresh period")
        self._listening = Outage("receiving store change notices",
                                 "this worker sees others' changes within its refresh period")

    def start(self) -> GenerationBus:
        """Publish the store's commits from now on and listen to the others' in a daemon thread."""
        self.store.on_change = self.publish
        self._thread = threading.Thread(target=self._listen, name="adlens-fleet-bus", daemon=True)
        self._thread.start()
        return self

    def publish(self, topics: frozenset[str]) -> None:
        """Tell the other workers that ``topics`` changed (a failure is logged once; never raised).

        During an outage notices are dropped, not queued: the other workers re-read everything when they
        re-subscribe, and their refresh period covers the meantime.
        """
        if not self._publishing.usable():
            return
        message = json.dumps({"from": self.origin, "topics": sorted(topics)})
        try:
            self.fleet.client.publish(self.channel, message)
        except self._errors as error:
            self._publishing.failed(error)
            return
        self._publishing.succeeded()

    def close(self) -> None:
        """Stop publishing and listening (waits for the listener to finish)."""
        if self.store.on_change == self.publish:
            self.store.on_change = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5 * POLL_SECONDS)

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self.fleet.client.pubsub()
            try:
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None:
                        self._apply(message)
            except self._errors as error:
                self.subscribed.clear()
                self._listening.failed(error)
                self._stop.wait(RETRY_SECONDS)
            finally:
                try:
                    pubsub.close()
                except self._errors:
                    pass

    def _apply(self, message: dict[str, Any]) -> None:
        if message["type"] == "subscribe":
            # (Re)subscribed: whatever changed while this worker was not listening is re-read.
            self._moved(frozenset(TOPICS))
            self._listening.succeeded()
            self.subscribed.set()
            return
        if message["type"] != "message":
            return
        try:
            body = json.loads(message["data"])
            origin, topics = body["from"], [str(topic) for topic in body["topics"]]
        except (ValueError, KeyError, TypeError) as error:
            log.warning("ignoring a malformed store change notice on %s: %s", self.channel, error)
            return
        if origin != self.origin:
            self._moved(frozenset(topics))
            self.received += 1

    def _moved(self, topics: frozenset[str]) -> None:
        self.store.moved(topics)
        for listener in self.listeners:
            try:
                listener(topics)
            except Exception:  # a listener's bug must not stop this worker hearing the others
                log.exception("a store change listener failed on %s", sorted(topics))


def announce(store: StoreBase, settings: Settings) -> GenerationBus | None:
    """Publish ``store``'s commits to the fleet of ``settings.redis_url`` without listening (``None`` when unset).

    For a process that changes the store but keeps no cache of it, such as an ``adlens`` command
    (``ads import``, ``gallery enrol``, ``catalog import``…): the fleet's servers re-read what it
    changed at once instead of after their refresh period. Nothing is connected before the first
    commit; an unreachable Redis is logged once and never fails a commit.
    """
    from adlens.fleet.client import connect

    fleet = connect(settings)
    if fleet is None:
        return None
    bus = GenerationBus(fleet, store)
    store.on_change = bus.publish
    return bus
