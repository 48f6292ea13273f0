"""The incremental half of ``benchmarks/gallery.py``: one enrolment or erasure applied in place vs a rebuild.

Index level (:func:`updates`): milliseconds to add one identity and to remove one in a
built :class:`~adlens.gallery.index.GalleryIndex`, whether the change is visible to the
next search, search latency with ``changes`` adds and removes pending in the overlay,
the background compaction, and a snapshot written then read back memory-mapped (time
and the heap memory it adds, from ``/proc/self/smaps_rollup``: the mapped file's pages
are the page cache's, shared by every worker of the host).

Store level (:func:`store_round`): a SQLite store holding ``n`` members (bulk-inserted,
one encrypted embedding each), one :class:`~adlens.gallery.live.LiveIndex` loaded from
it, then one enrolment and one erasure through the store: seconds until each is visible
to identification (read the log, fetch and decrypt the changed rows, apply), against the
baseline of loading the whole gallery again (what every change cost before).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from adlens.gallery.index import GalleryIndex
from adlens.gallery.snapshot import load_index, save_index

REPEATS = 20


def private_mb() -> float | None:
    """This process's anonymous memory in MB (its own heap: not file pages other processes can share)."""
    try:
        lines = Path("/proc/self/smaps_rollup").read_text().splitlines()
    except OSError:
        return None
    kb = sum(int(line.split()[1]) for line in lines if line.startswith("Anonymous:"))
    return round(kb / 1024, 1)


def _ms(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000.0
    return {"p50": round(float(np.median(values)), 3), "max": round(float(values.max()), 3)}


def updates(index: GalleryIndex, identities: np.ndarray, changes: int, latency: Any,
            queries: np.ndarray) -> dict[str, Any]:
    """Apply single adds and removes to ``index`` (ids ``0…n-1`` of ``identities``) and measure them."""
    n = len(identities)
    rng = np.random.default_rng(1)
    newcomers = rng.standard_normal((REPEATS + changes, identities.shape[1]), dtype=np.float32)
    newcomers *= np.float32(np.linalg.norm(identities[0]) / np.linalg.norm(newcomers[0]))
    add_s, remove_s, visible, gone = [], [], 0, 0
    for i in range(REPEATS):
        start = time.perf_counter()
        index.add(newcomers[i : i + 1], [n + i])
        add_s.append(time.perf_counter() - start)
        visible += int(index.search(newcomers[i : i + 1], 1)[1][0, 0] == n + i)
        victim = int(rng.integers(0, n))
        start = time.perf_counter()
        index.remove([victim])
        remove_s.append(time.perf_counter() - start)
        gone += int(index.search(identities[victim : victim + 1], 1)[1][0, 0] != victim)
    extra = changes // 2
    index.add(newcomers[REPEATS : REPEATS + extra], np.arange(n + REPEATS, n + REPEATS + extra))
    index.remove(rng.choice(n, changes - extra, replace=False))
    pending = index.changes
    after_ms = latency(lambda q: index.search(q, 1), queries)
    start = time.perf_counter()
    compact = index.compacted()
    compact_s = time.perf_counter() - start
    result = {"enrol_ms": _ms(add_s), "erase_ms": _ms(remove_s), "enrol_visible": visible / REPEATS,
              "erased_never_returned": gone / REPEATS, "pending_changes": pending,
              "index_ms_with_pending_changes": after_ms, "compact_s": round(compact_s, 2)}
    result["snapshot"] = snapshot(compact, latency, queries)
    return result


def snapshot(index: GalleryIndex, latency: Any, queries: np.ndarray) -> dict[str, Any]:
    """Write ``index`` and read it back memory-mapped: times, size, private memory, latency."""
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as folder:
        path = Path(folder) / "gallery.faiss"
        start = time.perf_counter()
        save_index(index, path)
        write_s = time.perf_counter() - start
        before = private_mb()
        start = time.perf_counter()
        mapped = load_index(path)
        load_s = time.perf_counter() - start
        mapped_ms = latency(lambda q: mapped.search(q, 1), queries)
        after = private_mb()
        size_mb = path.stat().st_size / 2**20
    return {"file_mb": round(size_mb, 1), "write_s": round(write_s, 2), "mmap_load_s": round(load_s, 3),
            "heap_mb_added_by_mapped_load": None if before is None or after is None else round(after - before, 1),
            "index_ms_mapped": mapped_ms}


def store_round(n: int, dims: int, seed: int) -> dict[str, Any]:
    """A LiveIndex over a SQLite store of ``n`` members: one enrolment and one erasure applied, vs a full reload."""
    from cryptography.fernet import Fernet
    from sqlalchemy import insert

    from adlens.crypto import EmbeddingCipher
    from adlens.gallery.live import LiveIndex
    from adlens.settings import Settings
    from adlens.store import open_store
    from adlens.store.models import CustomerRow, FaceEmbeddingRow, GalleryMemberRow
    from adlens.times import utcnow

    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n + 1, dims), dtype=np.float32) / np.float32(np.sqrt(2 * dims))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(mode="members", data_dir=Path(folder), gallery_key=Fernet.generate_key().decode())
        cipher = EmbeddingCipher(settings)
        store = open_store(f"sqlite:///{folder}/bench.db")
        now = utcnow()
        start = time.perf_counter()
        tokens = [cipher.encrypt(v) for v in vectors[:n]]
        with store.transaction() as s:
            names = [f"m{i}" for i in range(n)]
            s.execute(insert(CustomerRow), [{"id": c, "created_at": now, "profile": {}, "feedback_count": 0}
                                            for c in names])
            s.execute(insert(GalleryMemberRow), [{"customer_id": c, "consent_text": "yes", "consented_at": now,
                                                  "enrolled_at": now, "updated_at": now} for c in names])
            s.execute(insert(FaceEmbeddingRow), [{"customer_id": c, "ciphertext": t, "created_at": now}
                                                 for c, t in zip(names, tokens)])
        fill_s = time.perf_counter() - start
        live = LiveIndex(store, cipher, check_seconds=lambda: 3600.0)
        start = time.perf_counter()
        live.current(now)
        reload_s = time.perf_counter() - start
        store.add_customer("newcomer")
        store.enrol_member("newcomer", "yes", None, [cipher.encrypt(vectors[n])])
        live.stale = True  # as a generation event (or the periodic check) would mark it
        start = time.perf_counter()
        enrolled = live.identify(vectors[n : n + 1], 0.5, utcnow())[0][0]
        enrol_s = time.perf_counter() - start
        store.remove_customer("m0")
        live.stale = True
        start = time.perf_counter()
        answer = live.identify(vectors[:1], 0.5, utcnow())[0][0]
        erase_s = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(200):
            live.identify(vectors[1:2], 0.5, utcnow())
        identify_ms = (time.perf_counter() - start) / 200 * 1000
        store.close()
    return {"members": n, "fill_s": round(fill_s, 1), "full_reload_s": round(reload_s, 3),
            "enrol_visible_s": round(enrol_s, 4), "erase_visible_s": round(erase_s, 4),
            "enrolled_found": enrolled == "newcomer", "erased_returned": answer == "m0",
            "identify_with_store_check_ms_mean": round(identify_ms, 3), "full_loads": live.full_loads}
