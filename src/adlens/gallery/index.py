"""Nearest-person search over the gallery's embeddings (FAISS), changed in place by id.

Up to :data:`EXACT_MAX` vectors the search is exact (``IndexFlatL2``: a 50k scan takes
about a millisecond); above, an inverted file (``IndexIVFFlat``) scans only the
:func:`probes_for` cells nearest the query. IVF beat HNSW on every measurement in
``benchmarks/gallery.py`` (128-d embeddings have a high intrinsic dimension, where HNSW
graphs lose recall), and it misses in the safe direction: a member it fails to find
comes out as "unknown", never as somebody else, because every distance it returns is
exact. FAISS is imported inside functions so that importing the CLI does not load it.

Every vector has a stable integer id (the store's embedding row id). An index is a
read-only *base* (possibly memory-mapped from a host's snapshot, :mod:`.snapshot`), an
exact *overlay* of vectors added since and a set of base ids *hidden* since: ``add``
and ``remove`` cost well under a millisecond at any size and answer as a rebuild
would. :meth:`GalleryIndex.compacted` folds them into a new base, reusing the trained
IVF cells unless :meth:`GalleryIndex.needs_training`.
"""

from __future__ import annotations

import math
import os
from typing import Any, Self

import numpy as np

from adlens.errors import InvalidInputError

#: Galleries of up to this many vectors are searched exactly.
EXACT_MAX = 50_000
#: IVF cells: about 4·√n (FAISS's rule of thumb), rounded to a power of two.
CELLS_PER_ROOT = 4
#: Share of the IVF cells scanned per query (1/32 at 1M synthetic identities: recall@1 0.994-0.996, p99 2.9-3.7 ms).
PROBE_SHARE = 1 / 32
#: Fewest cells scanned per query: 1/32 of a 100k gallery's 1,024 cells found only 97.4%.
MIN_PROBES = 96
#: k-means training sample per IVF cell (FAISS warns below 39).
TRAIN_PER_CELL = 48
#: Cells are trained again once the right count (:func:`cells_for`) is this factor away from the trained one.
RETRAIN_FACTOR = 2
_configured = False


def load_faiss() -> Any:
    """The ``faiss`` module, with single-threaded search set once per process.

    A query is a handful of faces: threads only add scheduling noise and compete with
    ONNX Runtime in the same process. Training (k-means) uses every core.
    """
    global _configured
    import faiss

    if not _configured:
        faiss.omp_set_num_threads(1)
        _configured = True
    return faiss


def cells_for(n: int) -> int:
    """How many IVF cells an index of ``n`` vectors gets."""
    return 2 ** max(4, round(math.log2(CELLS_PER_ROOT * math.sqrt(max(n, 1)))))


def probes_for(cells: int) -> int:
    """How many of ``cells`` an IVF query scans."""
    return min(cells, max(MIN_PROBES, round(cells * PROBE_SHARE)))


def _ids(ids: Any, n: int | None = None) -> np.ndarray:
    ids = np.ascontiguousarray(np.atleast_1d(np.asarray(ids)), dtype=np.int64)
    if ids.ndim != 1 or (n is not None and len(ids) != n):
        raise InvalidInputError(f"need {n if n is not None else 'a list of'} integer ids, got shape {ids.shape}")
    if len(ids) and ids.min() < 0:
        raise InvalidInputError("vector ids must be >= 0")
    if len(np.unique(ids)) != len(ids):
        raise InvalidInputError("vector ids must be distinct")
    return ids


class GalleryIndex:
    """Embeddings with an id and a person label each; answers "who is nearest" per query.

    Args:
        exact_max: up to this many vectors, exact search; above, IVF.
        nprobe: IVF cells scanned per query; ``None``: :func:`probes_for`.
    """

    def __init__(self, exact_max: int = EXACT_MAX, nprobe: int | None = None) -> None:
        self.exact_max = exact_max
        self.nprobe = nprobe

    def build(self, vectors: np.ndarray, labels: Any = None, ids: Any = None, cells: Any = None,
              assigned: Any = None) -> Self:
        """Index ``vectors`` ``(n, d)`` with ``ids`` (default ``0…n-1``), row ``i`` of person ``labels[i]``.

        ``labels`` (ints ≥ 0) default to the ids: each vector its own person. ``cells``
        (the trained coarse quantiser of an earlier IVF index, see :meth:`compacted`)
        skips k-means when the size still suits it, and then ``assigned`` (each vector's
        cell in that index, -1 if none) skips assigning them again.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise InvalidInputError(f"need (n, d) vectors, got shape {vectors.shape}")
        n, dims = vectors.shape
        ids = np.arange(n, dtype=np.int64) if ids is None else _ids(ids, n)
        self.dimensions_ = dims
        self.labels_: dict[int, int] | None = None
        self.per_person_ = 1
        self._label(ids, labels)
        faiss = load_faiss()
        base, reused = (faiss.IndexIDMap2(faiss.IndexFlatL2(dims)), False) if n <= self.exact_max \
            else self._ivf(vectors, cells)
        if n and reused and assigned is not None:
            assigned = np.array(assigned, dtype=np.int64)
            if (missing := assigned < 0).any():
                assigned[missing] = base.quantizer.search(vectors[missing], 1)[1][:, 0]
            base.add_core(n, faiss.swig_ptr(vectors), faiss.swig_ptr(ids), faiss.swig_ptr(assigned))
        elif n:
            base.add_with_ids(vectors, ids)
        return self.on(base, np.sort(ids))

    def _ivf(self, vectors: np.ndarray, cells: Any) -> tuple[Any, bool]:
        faiss = load_faiss()
        n, dims = vectors.shape
        reused = cells is not None and cells.d == dims and not self._retrain(cells.ntotal, n)
        if reused:
            quantizer = faiss.clone_index(cells)
            base = faiss.IndexIVFFlat(quantizer, dims, quantizer.ntotal)
        else:
            count = cells_for(n)
            base = faiss.IndexIVFFlat(faiss.IndexFlatL2(dims), dims, count)
            sample = vectors
            if n > count * TRAIN_PER_CELL:
                rows = np.random.default_rng(0).choice(n, count * TRAIN_PER_CELL, replace=False)
                sample = vectors[np.sort(rows)]
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            try:
                base.train(sample)
            finally:
                faiss.omp_set_num_threads(1)
        base.nprobe = self.nprobe or probes_for(base.nlist)
        return base, reused

    @staticmethod
    def _retrain(cells: int, n: int) -> bool:
        return not cells / RETRAIN_FACTOR < cells_for(n) < cells * RETRAIN_FACTOR

    def _label(self, ids: np.ndarray, labels: Any) -> None:
        if labels is None:
            if self.labels_ is not None:
                raise InvalidInputError("this index labels its vectors: give labels")
            return
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(labels) != len(ids):
            raise InvalidInputError(f"need n vectors and n labels, got {len(ids)} and {len(labels)}")
        if len(labels) and labels.min() < 0:
            raise InvalidInputError("person labels must be >= 0")
        if self.labels_ is None:
            if len(self):
                raise InvalidInputError("this index has no labels: give none")
            self.labels_ = {}
        self.labels_.update(zip(ids.tolist(), labels.tolist()))
        if len(labels):
            # Neighbours needed so that k distinct people survive: an upper bound on anyone's vectors.
            self.per_person_ = max(self.per_person_, int(np.unique(labels, return_counts=True)[1].max()))

    def on(self, base: Any, base_ids: np.ndarray) -> Self:
        """Use the FAISS index ``base`` (holding ``base_ids``, sorted) as the read-only base, with no changes yet."""
        faiss = load_faiss()
        self.dimensions_ = int(base.d)
        self.kind_ = "ivf" if isinstance(base, faiss.IndexIVF) else "exact"
        if not hasattr(self, "labels_"):
            self.labels_, self.per_person_ = None, 1
        self.base_ = base
        self.base_ids_ = base_ids
        self.hidden_: set[int] = set()
        self.overlay_ = faiss.IndexIDMap2(faiss.IndexFlatL2(self.dimensions_))
        self.overlay_ids_: set[int] = set()
        self._selector: Any = None
        return self

    def __len__(self) -> int:
        if not hasattr(self, "base_"):
            return 0
        return int(self.base_.ntotal) - len(self.hidden_) + len(self.overlay_ids_)

    def _built(self) -> None:
        if not hasattr(self, "base_"):
            raise InvalidInputError("the gallery index is not built yet: call build() first")

    def _in_base(self, ids: np.ndarray) -> np.ndarray:
        where = np.searchsorted(self.base_ids_, ids)
        found = where < len(self.base_ids_)
        found[found] = self.base_ids_[where[found]] == ids[found]
        return found

    def add(self, vectors: np.ndarray, ids: Any, labels: Any = None) -> Self:
        """Add (or replace) the vectors of ``ids``: searchable at once, no rebuild."""
        self._built()
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if vectors.shape[1:] != (self.dimensions_,):
            raise InvalidInputError(f"vectors must have {self.dimensions_} columns, got shape {vectors.shape}")
        ids = _ids(ids, len(vectors))
        self._label(ids, labels)
        self.remove(ids, forget_labels=False)
        if len(ids):
            self.overlay_.add_with_ids(vectors, ids)
            self.overlay_ids_.update(ids.tolist())
        return self

    def remove(self, ids: Any, forget_labels: bool = True) -> int:
        """Remove the vectors of ``ids`` (unknown ids are ignored); how many were there."""
        self._built()
        ids = np.unique(np.ascontiguousarray(np.atleast_1d(np.asarray(ids)), dtype=np.int64))
        in_overlay = np.array([i in self.overlay_ids_ for i in ids.tolist()], dtype=bool)
        removed = 0
        if in_overlay.any():
            removed += int(self.overlay_.remove_ids(ids[in_overlay]))
            self.overlay_ids_.difference_update(ids[in_overlay].tolist())
        fresh = [i for i in ids[self._in_base(ids)].tolist() if i not in self.hidden_]
        if fresh:
            self.hidden_.update(fresh)
            self._selector = None
        if forget_labels and self.labels_ is not None:
            for i in ids.tolist():
                self.labels_.pop(i, None)
        return removed + len(fresh)

    @property
    def changes(self) -> int:
        """Vectors added or hidden since the base was built: what :meth:`compacted` would fold in."""
        return len(self.overlay_ids_) + len(self.hidden_) if hasattr(self, "base_") else 0

    def search(self, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest people of each query: euclidean distances and labels, ``(m, k)`` each.

        A person's distance is that of their nearest vector. Where fewer than ``k``
        people are found the row is padded with ``inf`` and label ``-1``. Without labels
        a person is a vector, and the labels returned are vector ids.
        """
        self._built()
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1:] != (self.dimensions_,):
            raise InvalidInputError(f"queries must have {self.dimensions_} columns, got shape {queries.shape}")
        distances = np.full((len(queries), k), np.inf, dtype=np.float32)
        people = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self) == 0 or len(queries) == 0:
            return distances, people
        squared, found = self._neighbours(queries, min(len(self), k * self.per_person_))
        for q in range(len(queries)):
            count = 0
            seen: set[int] = set()
            # Neighbours come nearest first, so a person's first appearance is their minimum.
            for vector, d2 in zip(found[q].tolist(), squared[q].tolist()):
                if vector < 0:
                    break
                label = vector if self.labels_ is None else self.labels_[vector]
                if label in seen:
                    continue
                seen.add(label)
                distances[q, count] = math.sqrt(max(d2, 0.0))
                people[q, count] = label
                count += 1
                if count == k:
                    break
        return distances, people

    def _neighbours(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` nearest vectors held (squared distances, ids), base and overlay merged."""
        faiss = load_faiss()
        parts = []
        if self.base_.ntotal > len(self.hidden_):
            params = None
            if self.hidden_:
                if self._selector is None:  # built once per change of the hidden ids, not per query
                    self._selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(
                        np.fromiter(self.hidden_, np.int64, len(self.hidden_))))
                params = (faiss.SearchParametersIVF(sel=self._selector, nprobe=self.base_.nprobe)
                          if self.kind_ == "ivf" else faiss.SearchParameters(sel=self._selector))
            parts.append(self.base_.search(queries, n, params=params))
        if self.overlay_ids_:
            parts.append(self.overlay_.search(queries, min(n, len(self.overlay_ids_))))
        if len(parts) == 1:
            return parts[0]
        squared = np.concatenate([np.where(p[1] < 0, np.inf, p[0]) for p in parts], axis=1)
        found = np.concatenate([p[1] for p in parts], axis=1)
        order = np.argsort(squared, axis=1, kind="stable")[:, :n]
        return np.take_along_axis(squared, order, 1), np.take_along_axis(found, order, 1)

    def needs_training(self) -> bool:
        """Whether a :meth:`compacted` copy would train new cells (or switch between exact and IVF)."""
        n = len(self)
        if self.kind_ == "exact":
            return n > self.exact_max
        return n <= self.exact_max // 2 or self._retrain(int(self.base_.nlist), n)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every vector held and its id, ``(ids, vectors)`` sorted by id, read straight from FAISS's storage."""
        from adlens.gallery.snapshot import held

        ids, vectors, _ = held(self)
        order = np.argsort(ids)
        return ids[order], vectors[order]

    def frozen(self) -> GalleryIndex:
        """A copy sharing the (read-only) base, with its own overlay and hidden ids: compact it off the lock."""
        copy = GalleryIndex(self.exact_max, self.nprobe).on(self.base_, self.base_ids_)
        copy.labels_, copy.per_person_ = None if self.labels_ is None else dict(self.labels_), self.per_person_
        copy.hidden_, copy.overlay_ids_ = set(self.hidden_), set(self.overlay_ids_)
        copy.overlay_ = load_faiss().clone_index(self.overlay_)
        return copy

    def compacted(self) -> GalleryIndex:
        """A new index of the same vectors with an empty overlay (cells reused unless :meth:`needs_training`)."""
        from adlens.gallery.snapshot import held

        ids, vectors, assigned = held(self)
        labels = None if self.labels_ is None else np.array([self.labels_[i] for i in ids.tolist()], np.int64)
        cells = self.base_.quantizer if self.kind_ == "ivf" else None
        return GalleryIndex(self.exact_max, self.nprobe).build(vectors, labels, ids, cells, assigned)
