"""The gallery index kept in step with the store by applying its change log, never rebuilt per change.

:class:`LiveIndex` loads the index once (from the host's newest snapshot when
``ADLENS_GALLERY_SNAPSHOTS`` names a folder, else from the store), then follows the
store's change log: when the log's head moves (checked at most every
``VERSION_CHECK_SECONDS``, at once after a change made through the same object) it
re-reads only the embeddings changed since and adds or removes them in place. A full
reload happens only when the log no longer reaches back (pruned, or another database).

Every match is checked against the store before it is returned
(:meth:`~adlens.store.gallery_log.GalleryLogMixin.gallery_owners`: one primary-key
lookup per candidate), so an index that missed an erasure or an expiry never names that
person: the stale vector is dropped and the search repeated.

Changes pile up in the index's overlay; past :data:`COMPACT_CHANGES` (or when the
gallery grew or shrank enough for new IVF cells) a background thread folds them into a
new base, swapped in atomically with the changes made meanwhile replayed on it, and
written as the host's new snapshot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adlens.crypto import EmbeddingCipher
from adlens.gallery.index import EXACT_MAX, GalleryIndex
from adlens.gallery.snapshot import SnapshotFolder, load_index, snapshot_name

if TYPE_CHECKING:
    from adlens.store import Store

#: Changes held in the overlay before a background compaction folds them into the base.
COMPACT_CHANGES = 2_000
#: With snapshots, seconds an erased vector may stay in the host's shared snapshot before it is rewritten.
SNAPSHOT_SECONDS = 60.0
#: Nearest vectors checked against the store per face and round; rounds before a face is called unknown.
CANDIDATES, ROUNDS = 4, 4

Answer = tuple[str | None, float | None]


class LiveIndex:
    """One store's gallery index, following its change log.

    Args:
        store: the store.
        cipher: decrypts the stored embeddings.
        snapshots: folder of the host's shared snapshots, or ``None``.
        exact_max: see :class:`~adlens.gallery.index.GalleryIndex`.
        check_seconds: returns how long a checked head is trusted (read on each call, so tests can change it).
    """

    def __init__(self, store: Store, cipher: EmbeddingCipher, snapshots: Path | None = None,
                 exact_max: int = EXACT_MAX, check_seconds: Callable[[], float] = lambda: 1.0) -> None:
        self.store, self.cipher, self.snapshots, self.exact_max = store, cipher, snapshots, exact_max
        self.check_seconds = check_seconds
        self.index: GalleryIndex | None = None
        self.sequence = 0  # the change-log position the index holds
        self.base_sequence = -1  # that of the snapshot the base came from (-1: not from a snapshot)
        self.stale = False
        self.full_loads = 0
        self._checked_at = -float("inf")
        self._base_at = time.monotonic()
        self._lock = threading.RLock()
        self._compactor: threading.Thread | None = None
        self._journal: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._snapshot_folder: SnapshotFolder | None = None
        self._replaced = 0  # counts wholesale replacements (reloads): a compaction begun before one is dropped

    # --- following the store ------------------------------------------------------

    def current(self, now: datetime, force: bool = False) -> GalleryIndex:
        """The index, after applying whatever the store's log holds beyond it (when due, or ``force``)."""
        with self._lock:
            clock = time.monotonic()
            if self.index is None:
                self._load(now)
            elif force or self.stale or clock - self._checked_at >= self.check_seconds():
                self._adopt_newer_snapshot(now)
                if self.store.gallery_head() != self.sequence:
                    self._follow(now)
            else:
                assert self.index is not None
                return self.index
            self.stale, self._checked_at = False, clock
            self._maybe_compact()
            assert self.index is not None
            return self.index

    def _folder(self) -> SnapshotFolder | None:
        if self.snapshots is None or self._snapshot_folder is not None:
            return self._snapshot_folder
        fingerprint = self.cipher.fingerprint()
        if fingerprint is None:  # nothing was ever encrypted here: nothing worth sharing yet
            return None
        name = snapshot_name(self.store.url.render_as_string(False), fingerprint)
        self._snapshot_folder = SnapshotFolder(self.snapshots, name)
        return self._snapshot_folder

    def _load(self, now: datetime) -> None:
        folder = self._folder()
        loaded = folder.load(self.exact_max) if folder is not None else None
        if loaded is not None:
            self.sequence, self.index = loaded
            self.base_sequence, self._base_at = self.sequence, time.monotonic()
            if self._follow(now, reload=False):
                return
        self._reload(now, folder)

    def _reload(self, now: datetime, folder: SnapshotFolder | None) -> None:
        """Build the index from every unexpired embedding in the store (first load, or the log cannot help)."""
        head = self.store.gallery_head()  # before the rows: a change in between is applied again, harmlessly
        ids, _, tokens = self.store.gallery_embeddings(now)
        index = GalleryIndex(self.exact_max).build(self.cipher.decrypt_many(tokens), ids=np.array(ids, np.int64))
        self.full_loads += 1
        self._replaced += 1
        self.index, self.sequence, self.base_sequence, self._base_at = index, head, -1, time.monotonic()
        if folder is not None and folder.write(index, head) is not None:
            self.base_sequence = head

    def _follow(self, now: datetime, reload: bool = True) -> bool:
        """Apply the changes logged since :attr:`sequence`; without a usable log, reload (or say so)."""
        delta = self.store.gallery_changes(self.sequence)
        if delta is None:
            if reload:
                self._reload(now, self._folder())
            return False
        head, changed = delta
        if changed:
            ids, _, tokens = self.store.gallery_embeddings(now, changed)
            self._apply(np.array(changed, np.int64), np.array(ids, np.int64), self.cipher.decrypt_many(tokens))
        self.sequence = head
        return True

    def _apply(self, changed: np.ndarray, ids: np.ndarray, vectors: np.ndarray) -> None:
        assert self.index is not None
        self.index.remove(changed)
        if len(ids):
            self.index.add(vectors, ids)
        if self._journal is not None:
            self._journal.append((changed, ids, vectors))

    def _adopt_newer_snapshot(self, now: datetime) -> None:
        """Switch to a snapshot another process wrote since our base (its pages are shared; ours get freed)."""
        folder = self._folder()
        latest = folder.latest() if folder is not None and self._journal is None else None
        if folder is None or latest is None or latest[0] <= self.base_sequence:
            return
        loaded = folder.load(self.exact_max)
        if loaded is None:
            return
        previous = (self.index, self.sequence, self.base_sequence)
        self.sequence, self.index = loaded
        self.base_sequence, self._base_at = self.sequence, time.monotonic()
        if not self._follow(now, reload=False):
            self.index, self.sequence, self.base_sequence = previous

    # --- answering ----------------------------------------------------------------

    def identify(self, embeddings: np.ndarray, threshold: float, now: datetime) -> list[Answer]:
        """``(customer or None, distance or None)`` per row: the nearest vector, a member only if the store agrees.

        Candidates within ``threshold`` are checked against the store in one query
        (:meth:`~adlens.store.gallery_log.GalleryLogMixin.gallery_owners`); those it no
        longer has (erased, trimmed) or whose consent expired are removed from the index
        and the search repeated, after applying the change log at once (a stale
        candidate means this index is behind). A face with no candidate within the
        threshold is unknown without a query: no one is named, so nothing needs checking.
        """
        answers: list[Answer] = [(None, None)] * len(embeddings)
        pending = np.arange(len(embeddings))
        for attempt in range(ROUNDS):
            index = self.current(now, force=attempt > 0)
            if len(index) == 0 or not len(pending):
                break
            with self._lock:
                distances, ids = index.search(embeddings[pending], k=CANDIDATES)
            close = {int(i) for i in ids[(ids >= 0) & (distances <= threshold)]}
            owners = self.store.gallery_owners(sorted(close), now) if close else {}
            gone = np.array(sorted(close - set(owners)), np.int64)
            if len(gone):
                with self._lock:
                    self._apply(gone, np.zeros(0, np.int64), np.zeros((0, index.dimensions_), np.float32))
            retry = []
            for row, query in enumerate(pending.tolist()):
                for vector, distance in zip(ids[row].tolist(), distances[row].tolist()):
                    if vector < 0:
                        break
                    if distance > threshold:
                        answers[query] = (None, distance)
                        break
                    if vector in owners:
                        answers[query] = (owners[vector], distance)
                        break
                else:  # every candidate was stale: look again
                    retry.append(query)
            pending = np.array(retry, np.int64)
        return answers

    # --- compaction ---------------------------------------------------------------

    def _maybe_compact(self) -> None:
        index = self.index
        if index is None or self._compactor is not None:
            return
        old_erasures = (self.snapshots is not None and self.base_sequence >= 0 and bool(index.hidden_)
                        and time.monotonic() - self._base_at >= SNAPSHOT_SECONDS)
        if index.changes >= COMPACT_CHANGES or index.needs_training() or old_erasures:
            self._compactor = threading.Thread(target=self._compact, name="adlens-gallery-compact", daemon=True)
            self._compactor.start()

    def _compact(self) -> None:
        """Fold the overlay and hidden ids into a new base (outside the lock: the base is read-only)."""
        try:
            with self._lock:
                assert self.index is not None
                frozen, sequence, self._journal, replaced = self.index.frozen(), self.sequence, [], self._replaced
            fresh = frozen.compacted()  # the slow part, off the lock: it reads the read-only base
            folder = self._folder()
            written = folder.write(fresh, sequence) if folder is not None else None
            if written is not None:  # map the file just written: the host's workers share its pages
                fresh = load_index(written, self.exact_max)
            with self._lock:
                if self._replaced != replaced:  # reloaded meanwhile: what was compacted is out of date
                    return
                for changed, added, rows in self._journal or []:
                    fresh.remove(changed)
                    if len(added):
                        fresh.add(rows, added)
                self.index, self._journal, self._base_at = fresh, None, time.monotonic()
                self.base_sequence = sequence if written is not None else -1
        finally:
            with self._lock:
                self._journal, self._compactor = None, None

    def wait(self) -> None:
        """Wait for a running compaction (tests, benchmarks, shutdown)."""
        compactor = self._compactor
        if compactor is not None:
            compactor.join()
