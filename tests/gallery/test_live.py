"""LiveIndex: the gallery index follows the store's change log, never returns an erased member, shares snapshots.

Synthetic 128-d embeddings stand in for faces (no model needed); every test runs on
SQLite and PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from cryptography.fernet import Fernet

from adlens.crypto import EmbeddingCipher
from adlens.gallery import live, service
from adlens.gallery.index import GalleryIndex
from adlens.gallery.live import LiveIndex
from adlens.gallery.service import Gallery
from adlens.settings import Settings
from adlens.store import Store, open_store
from adlens.store import gallery_log
from adlens.times import utcnow

THRESHOLD = 0.5


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(mode="members", data_dir=tmp_path / "data", gallery_key=Fernet.generate_key().decode())


def faces(n: int, seed: int = 0) -> np.ndarray:
    """``n`` people about 1.0 apart."""
    return np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32) / np.sqrt(256)


def enrol(store: Store, cipher: EmbeddingCipher, people: dict[str, np.ndarray], expires=None) -> None:
    for customer, vectors in people.items():
        store.add_customer(customer)
        store.enrol_member(customer, "yes", expires, [cipher.encrypt(v) for v in np.atleast_2d(vectors)])


def names(answers) -> list[str | None]:
    return [customer for customer, _ in answers]


@pytest.fixture
def crowd() -> dict[str, np.ndarray]:
    data = faces(40)
    return {f"p{i:02d}": data[i] for i in range(40)}


def test_enrolments_and_erasures_apply_without_a_rebuild(store, settings, crowd) -> None:
    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, dict(list(crowd.items())[:30]))
    index = LiveIndex(store, cipher, check_seconds=lambda: 0.0)
    queries = np.stack(list(crowd.values())) + 0.01
    assert names(index.identify(queries, THRESHOLD, utcnow())) == list(crowd)[:30] + [None] * 10
    enrol(store, cipher, dict(list(crowd.items())[30:]))
    store.remove_customer("p03")
    enrol(store, cipher, {"p04": crowd["p05"] + 0.02})  # a second embedding near p05
    answers = index.identify(queries, THRESHOLD, utcnow())
    expected = list(crowd)
    expected[3] = None
    assert names(answers) == expected and index.full_loads == 1
    assert index.sequence == store.gallery_head()
    # The same answers as an index built from scratch.
    ids, _, tokens = store.gallery_embeddings()
    rebuilt = GalleryIndex().build(cipher.decrypt_many(tokens), ids=ids)
    assert (index.index.search(queries, k=2)[1] == rebuilt.search(queries, k=2)[1]).all()


@pytest.mark.parametrize("missed", [False, True], ids=["behind", "missed-the-log"])
def test_a_stale_index_never_returns_an_erased_member(store, store_url, settings, crowd, monkeypatch,
                                                      missed) -> None:
    monkeypatch.setattr(service, "VERSION_CHECK_SECONDS", 3600.0)  # this gallery will not look at the log
    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, {"ann": crowd["p00"], "bob": crowd["p00"] + 0.05, "cid": crowd["p01"]})
    stale = Gallery(store, settings)
    query = crowd["p00"][None] + 0.01
    assert names(stale.identify_embeddings(query)) == ["ann"]  # the index is now cached
    if missed:  # as if the log said nothing new: only the check of each match protects
        head = store.gallery_head()
        monkeypatch.setattr(store, "gallery_head", lambda: head)
    other = open_store(store_url)  # another process: the CLI, another worker, another host
    try:
        other.remove_customer("ann")
        assert names(stale.identify_embeddings(query)) == ["bob"]  # the next nearest, confirmed by the store
        other.remove_customer("bob")
        assert names(stale.identify_embeddings(query)) == [None]
    finally:
        other.close()
    assert stale.identify_embeddings(crowd["p01"][None])[0][0] == "cid"


def test_expired_consent_is_dropped_at_match_time(store, settings, crowd) -> None:
    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, {"ann": crowd["p00"]}, expires=utcnow() + timedelta(hours=1))
    index = LiveIndex(store, cipher, check_seconds=lambda: 3600.0)
    assert names(index.identify(crowd["p00"][None], THRESHOLD, utcnow())) == ["ann"]
    later = utcnow() + timedelta(hours=2)
    assert index.identify(crowd["p00"][None], THRESHOLD, later) == [(None, None)]
    assert len(index.index) == 0


def test_a_pruned_log_means_one_full_reload(store, settings, crowd, monkeypatch) -> None:
    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, {"ann": crowd["p00"]})
    index = LiveIndex(store, cipher, check_seconds=lambda: 0.0)
    index.identify(crowd["p00"][None], THRESHOLD, utcnow())
    monkeypatch.setattr(gallery_log, "LOG_KEEP", 1)
    enrol(store, cipher, {"bob": crowd["p01"], "cid": crowd["p02"]})
    assert names(index.identify(crowd["p01"][None], THRESHOLD, utcnow())) == ["bob"]
    assert index.full_loads == 2


def test_workers_share_a_snapshot_and_compact_in_the_background(store, settings, crowd, tmp_path,
                                                                 monkeypatch) -> None:
    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, dict(list(crowd.items())[:20]))
    shm = tmp_path / "shm"
    first = LiveIndex(store, cipher, shm, check_seconds=lambda: 0.0)
    first.current(utcnow())
    assert first.full_loads == 1 and len(list(shm.glob("gallery-*.faiss"))) == 1
    enrol(store, cipher, {"p20": crowd["p20"]})
    second = LiveIndex(store, cipher, shm, check_seconds=lambda: 0.0)  # another worker of the host
    queries = np.stack(list(crowd.values())[:21]) + 0.01
    assert names(second.identify(queries, THRESHOLD, utcnow())) == list(crowd)[:21]
    assert second.full_loads == 0 and second.index.changes == 1  # the snapshot, plus the one enrolment since
    monkeypatch.setattr(live, "COMPACT_CHANGES", 2)
    store.remove_customer("p00")
    enrol(store, cipher, {"p21": crowd["p21"]})
    second.current(utcnow())
    second.wait()
    snapshots = sorted(shm.glob("gallery-*.faiss"))
    assert len(snapshots) == 1 and second.base_sequence == store.gallery_head()
    assert second.index.changes == 0
    first.current(utcnow(), force=True)  # adopts the newer snapshot instead of keeping its own base
    assert first.base_sequence == second.base_sequence and first.index.changes == 0
    expected = [None] + list(crowd)[1:22]
    queries = np.stack(list(crowd.values())[:22]) + 0.01
    for worker in (first, second):
        assert names(worker.identify(queries, THRESHOLD, utcnow())) == expected


def test_a_snapshot_needs_the_same_key(store, settings, crowd, tmp_path) -> None:
    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, {"ann": crowd["p00"]})
    LiveIndex(store, cipher, tmp_path / "shm").current(utcnow())
    other = Settings(mode="members", data_dir=settings.data_dir, gallery_key=Fernet.generate_key().decode())
    stranger = LiveIndex(store, EmbeddingCipher(other), tmp_path / "shm")
    with pytest.raises(Exception, match="gallery key"):
        stranger.current(utcnow())


def test_changes_made_during_a_compaction_survive_it(store, settings, crowd, monkeypatch) -> None:
    import threading

    cipher = EmbeddingCipher(settings)
    enrol(store, cipher, dict(list(crowd.items())[:10]))
    index = LiveIndex(store, cipher, check_seconds=lambda: 0.0)
    index.current(utcnow())
    started, release = threading.Event(), threading.Event()
    original = GalleryIndex.compacted

    def slow(self):
        started.set()
        release.wait(10)
        return original(self)

    monkeypatch.setattr(GalleryIndex, "compacted", slow)
    monkeypatch.setattr(live, "COMPACT_CHANGES", 1)
    store.remove_customer("p00")
    index.current(utcnow())  # applies the erasure, starts compacting
    assert started.wait(10)
    enrol(store, cipher, {"p10": crowd["p10"]})
    store.remove_customer("p01")
    queries = np.stack(list(crowd.values())[:11]) + 0.01
    expected = [None, None] + list(crowd)[2:11]
    assert names(index.identify(queries, THRESHOLD, utcnow())) == expected  # served while compacting
    release.set()
    index.wait()
    assert index.index.changes <= 2  # the journal replayed on the new base, nothing else pending
    assert names(index.identify(queries, THRESHOLD, utcnow())) == expected
    assert sorted(index.index.vectors()[0].tolist()) == store.gallery_embeddings()[0]
