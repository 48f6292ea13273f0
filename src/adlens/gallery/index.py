"""Nearest-person search over the gallery's embeddings (FAISS).

Up to :data:`EXACT_MAX` vectors the search is exact (``IndexFlatL2``: a 50k scan takes
about a millisecond); above, an inverted file (``IndexIVFFlat``) scans only the
:func:`nprobe` cells nearest the query. IVF beat HNSW on every measurement in
``benchmarks/gallery.py`` (128-d embeddings have a high intrinsic dimension, where HNSW
graphs lose recall), and it misses in the safe direction: a member it fails to find
comes out as "unknown", never as somebody else, because every distance it returns is
exact. FAISS is imported inside functions so that importing the CLI does not load it.
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

_configured = False


def load_faiss() -> Any:
    """The ``faiss`` module, with single-threaded search set once per process.

    A query is a handful of faces: splitting it over threads only adds scheduling
    noise on a small machine and competes with ONNX Runtime in the same process.
    Building (k-means) uses every core, see :meth:`GalleryIndex.build`.
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


class GalleryIndex:
    """Embeddings with a person label each; answers "who is nearest" per query.

    Args:
        exact_max: up to this many vectors, exact search; above, IVF.
        nprobe: IVF cells scanned per query; ``None``: :func:`probes_for`.
    """

    def __init__(self, exact_max: int = EXACT_MAX, nprobe: int | None = None) -> None:
        self.exact_max = exact_max
        self.nprobe = nprobe

    def build(self, vectors: np.ndarray, labels: np.ndarray) -> Self:
        """Index ``vectors`` ``(n, d)``, row ``i`` belonging to person ``labels[i]`` (ints ≥ 0)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        if vectors.ndim != 2 or len(labels) != len(vectors):
            raise InvalidInputError(f"need (n, d) vectors and n labels, got {vectors.shape} and {labels.shape}")
        if len(labels) and labels.min() < 0:
            raise InvalidInputError("person labels must be >= 0")
        faiss = load_faiss()
        n, dims = vectors.shape
        self.labels_ = labels
        self.dimensions_ = dims
        # Neighbours needed so that k distinct people survive: a person has at most this many vectors.
        self.per_person_ = int(np.bincount(labels).max()) if n else 0
        if n <= self.exact_max:
            self.kind_ = "exact"
            self.index_ = faiss.IndexFlatL2(dims)
        else:
            self.kind_ = "ivf"
            cells = cells_for(n)
            self.index_ = faiss.IndexIVFFlat(faiss.IndexFlatL2(dims), dims, cells)
            sample = vectors
            if n > cells * TRAIN_PER_CELL:
                rows = np.random.default_rng(0).choice(n, cells * TRAIN_PER_CELL, replace=False)
                sample = vectors[np.sort(rows)]
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            try:
                self.index_.train(sample)
            finally:
                faiss.omp_set_num_threads(1)
            self.index_.nprobe = self.nprobe or probes_for(cells)
        if n:
            self.index_.add(vectors)
        return self

    def __len__(self) -> int:
        return int(self.index_.ntotal) if hasattr(self, "index_") else 0

    def search(self, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest people of each query: euclidean distances and labels, ``(m, k)`` each.

        A person's distance is that of their nearest vector. Where fewer than ``k``
        people are found the row is padded with ``inf`` and label ``-1``.
        """
        if not hasattr(self, "index_"):
            raise InvalidInputError("the gallery index is not built yet: call build() first")
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1:] != (self.dimensions_,):
            raise InvalidInputError(f"queries must have {self.dimensions_} columns, got shape {queries.shape}")
        distances = np.full((len(queries), k), np.inf, dtype=np.float32)
        people = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self) == 0 or len(queries) == 0:
            return distances, people
        neighbours = min(len(self), k * self.per_person_)
        squared, rows = self.index_.search(queries, neighbours)
        for q in range(len(queries)):
            found = 0
            seen: set[int] = set()
            # Neighbours come nearest first, so a person's first appearance is their minimum.
            for row, d2 in zip(rows[q], squared[q]):
                if row < 0:
                    break
                label = int(self.labels_[row])
                if label in seen:
                    continue
                seen.add(label)
                distances[q, found] = math.sqrt(max(float(d2), 0.0))
                people[q, found] = label
                found += 1
                if found == k:
                    break
        return distances, people
