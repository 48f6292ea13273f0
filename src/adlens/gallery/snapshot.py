"""Gallery index snapshots shared by the workers of a host: written atomically, read memory-mapped.

One snapshot is the read-only base of a :class:`~adlens.gallery.index.GalleryIndex` as
``faiss.write_index`` writes it, named ``<name>-<sequence>.faiss`` where the sequence is
the store's gallery change-log position it holds (see
:meth:`~adlens.store.gallery_log.GalleryLogMixin.gallery_changes`). Every worker maps
the newest snapshot (``IO_FLAG_MMAP_IFC`` for the exact index, ``IO_FLAG_MMAP`` for
IVF), so the page cache holds one copy per host however many workers there are, and
applies the few changes logged since. A snapshot holds *decrypted* embeddings: the
folder should be RAM-backed (``/dev/shm``) so they never reach a disk, and is private
(mode 0700, files 0600). The name is a digest of the store URL and the gallery key, so
a process with another store or key never reads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from adlens.files import atomic_path
from adlens.gallery.index import EXACT_MAX, GalleryIndex, load_faiss


def stored(index: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, vectors, cells)`` held by an ``IndexIDMap2`` over a flat index, or by an ``IndexIVFFlat``.

    In storage order; ``cells`` is each vector's inverted list (-1 for a flat index).
    """
    faiss = load_faiss()
    dims = int(index.d)
    if isinstance(index, faiss.IndexIVF):
        lists, ids, rows, cells = index.invlists, [], [], []
        for cell in range(index.nlist):
            size = lists.list_size(cell)
            if size:
                ids.append(faiss.rev_swig_ptr(lists.get_ids(cell), size).copy())
                codes = faiss.rev_swig_ptr(lists.get_codes(cell), size * lists.code_size)
                rows.append(np.frombuffer(codes.tobytes(), np.float32).reshape(size, dims))
                cells.append(np.full(size, cell, np.int64))
        if not ids:
            return np.zeros(0, np.int64), np.zeros((0, dims), np.float32), np.zeros(0, np.int64)
        return np.concatenate(ids).astype(np.int64), np.concatenate(rows), np.concatenate(cells)
    flat = faiss.downcast_index(index.index)
    data = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * dims) if flat.ntotal else np.zeros(0, np.float32)
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    return ids, np.array(data).reshape(-1, dims), np.full(len(ids), -1, np.int64)


def held(index: GalleryIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, vectors, cells)`` of the vectors ``index`` holds (base less hidden, then overlay; cell -1: none)."""
    ids, vectors, cells = stored(index.base_)
    if index.hidden_:
        keep = ~np.isin(ids, np.fromiter(index.hidden_, np.int64, len(index.hidden_)))
        ids, vectors, cells = ids[keep], vectors[keep], cells[keep]
    if index.overlay_ids_:
        more_ids, more, _ = stored(index.overlay_)
        ids, vectors = np.concatenate([ids, more_ids]), np.concatenate([vectors, more])
        cells = np.concatenate([cells, np.full(len(more_ids), -1, np.int64)])
    return ids, vectors, cells


def save_index(index: GalleryIndex, path: Path) -> None:
    """Write ``index``'s base to ``path``: an index without changes since its build, and without labels."""
    if index.changes or index.labels_ is not None or not hasattr(index, "base_"):
        raise ValueError("only a freshly built index without labels is saved: compact it first")
    load_faiss().write_index(index.base_, str(path))


def load_index(path: Path, exact_max: int = EXACT_MAX, mmap: bool = True) -> GalleryIndex:
    """The index saved at ``path``, its base memory-mapped (read-only: changes go to its overlay)."""
    faiss = load_faiss()
    if not mmap:
        base = faiss.read_index(str(path))
    else:
        try:  # a flat index maps its vectors with IO_FLAG_MMAP_IFC, which IVF refuses
            base = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError:  # IVF maps its inverted lists with IO_FLAG_MMAP
            base = faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
    if isinstance(base, faiss.IndexIVF):
        lists = base.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(c), lists.list_size(c)).copy()
                 for c in range(base.nlist) if lists.list_size(c)]
        held = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    else:
        held = faiss.vector_to_array(base.id_map)
    # nprobe stays None: the file's own setting is searched with, and a compaction that trains new cells
    # gives them their own (probes_for).
    return GalleryIndex(exact_max).on(base, np.sort(held.astype(np.int64)))


def snapshot_name(store_url: str, key_fingerprint: str) -> str:
    """The file-name stem of a store's snapshots: a digest of its URL and its key's fingerprint."""
    return "gallery-" + hashlib.sha256(f"{store_url}\n{key_fingerprint}".encode()).hexdigest()[:16]


class SnapshotFolder:
    """The snapshots of one store (``name``) in ``folder``: the newest one, and writing a newer one.

    Args:
        folder: where snapshots live (created, mode 0700); ``/dev/shm/…`` keeps them in RAM.
        name: from :func:`snapshot_name`.
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = Path(folder).expanduser()
        self.name = name
        self._pattern = re.compile(re.escape(name) + r"-(\d{12})\.faiss")

    def _snapshots(self) -> list[tuple[int, Path]]:
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return []
        found = [(int(m.group(1)), p) for p in entries if (m := self._pattern.fullmatch(p.name))]
        return sorted(found)

    def latest(self) -> tuple[int, Path] | None:
        """``(sequence, path)`` of the newest snapshot, or ``None``."""
        found = self._snapshots()
        return found[-1] if found else None

    def load(self, exact_max: int = EXACT_MAX) -> tuple[int, GalleryIndex] | None:
        """The newest snapshot memory-mapped, with its sequence; ``None`` when there is none (or it vanished)."""
        latest = self.latest()
        if latest is None:
            return None
        try:
            return latest[0], load_index(latest[1], exact_max)
        except (RuntimeError, OSError):  # replaced (and removed) between listing and reading: none this time
            return None

    @contextlib.contextmanager
    def _writer(self) -> Iterator[bool]:
        """Hold the folder's write lock for this store if no other process does (yields whether it got it)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.folder / f"{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(descriptor)

    def write(self, index: GalleryIndex, sequence: int) -> Path | None:
        """Write ``index`` as the snapshot at ``sequence`` and remove older ones; ``None`` when skipped.

        Skipped when another process is writing one right now or a snapshot at least as
        new exists. Readers never see a partial file (a temporary file renamed into
        place); one that mapped a removed snapshot keeps its pages until it lets go.
        """
        with self._writer() as mine:
            latest = self.latest()
            if not mine or (latest is not None and latest[0] >= sequence):
                return None
            target = self.folder / f"{self.name}-{sequence:012d}.faiss"
            with atomic_path(target, "the gallery snapshot", mode=0o600) as temporary:
                save_index(index, temporary)
            for _, older in self._snapshots()[:-1]:
                older.unlink(missing_ok=True)
            return target
