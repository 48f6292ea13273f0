"""The catalogue as one sparse matrix: every product's aspect vector, weighted and L2-normalised.

A product's aspect vector (``{"token:sneakers": 1.0, "colour:red": 0.6, ...}``) says
what it is about; :class:`AspectIndex` turns the whole catalogue into a CSR matrix
(products × aspects) on which a taste profile is scored with one sparse mat-vec.
Two weights shape each column:

* the block weight of its kind (:data:`KIND_WEIGHTS`): tokens come from the seller's
  own metadata and name, so they are the most trustworthy; colours are measured from
  pixels (shades and leftover background blur them); ImageNet concepts are guesses of
  a model trained on other photos ("jersey" for a T-shirt), so they count least;
* its inverse document frequency over the catalogue, so "apparel", shared by half
  the products, says less about a taste than "sneakers".

Rows are L2-normalised, so a row dot a normalised query is their cosine similarity.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.types import split_key

#: Block weight of each aspect kind; an unknown kind counts like a token.
KIND_WEIGHTS: dict[str, float] = {"token": 1.0, "colour": 0.7, "concept": 0.5}
DEFAULT_KIND_WEIGHT = 1.0


def idf_weights(document_frequency: np.ndarray, n_documents: int) -> np.ndarray:
    """Smoothed inverse document frequency, ``log((1 + n) / (1 + df)) + 1`` (scikit-learn's).

    The ``+ 1`` keeps an aspect every product shares at weight 1 rather than 0, so a
    one-category catalogue still scores by it.
    """
    return np.log((1.0 + n_documents) / (1.0 + document_frequency)) + 1.0


class AspectIndex:
    """Products × aspects CSR matrix with block and IDF column weights, rows L2-normalised.

    ``ids`` and ``vectors`` run in parallel; ids must be unique. Building 100k products
    of ~30 aspects each takes about a second: one pass of Python over the keys to
    number the vocabulary, the rest in numpy.
    """

    def __init__(
        self,
        ids: Sequence[str],
        vectors: Sequence[Mapping[str, float]],
        kind_weights: Mapping[str, float] | None = None,
    ) -> None:
        if len(ids) != len(vectors):
            raise InvalidInputError(f"{len(ids)} ids but {len(vectors)} aspect vectors")
        self.ids: list[str] = [str(i) for i in ids]
        self.positions: dict[str, int] = {pid: row for row, pid in enumerate(self.ids)}
        if len(self.positions) != len(self.ids):
            raise InvalidInputError("product ids of an aspect index must be unique")
        self.kind_weights = dict(KIND_WEIGHTS if kind_weights is None else kind_weights)

        vocabulary: dict[str, int] = {}
        number = vocabulary.setdefault  # hoisted: this loop runs once per (product, aspect)
        columns = np.fromiter(
            (number(key, len(vocabulary)) for vector in vectors for key in vector), dtype=np.int32
        )
        values = np.fromiter((w for vector in vectors for w in vector.values()), dtype=np.float64)
        lengths = np.fromiter((len(vector) for vector in vectors), dtype=np.int64, count=len(vectors))
        indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])

        self.vocabulary = vocabulary
        self.keys: list[str] = list(vocabulary)
        n_aspects = len(self.keys)
        kinds = np.array(
            [self.kind_weights.get(split_key(key)[0], DEFAULT_KIND_WEIGHT) for key in self.keys], dtype=np.float64
        )
        nonzero = values != 0
        self.document_frequency = np.bincount(columns[nonzero], minlength=n_aspects)
        self.idf = idf_weights(self.document_frequency, len(self.ids))
        #: What one unit of raw aspect weight becomes in the matrix, per column.
        self.column_weights = (kinds * self.idf).astype(np.float64)

        data = values * self.column_weights[columns] if n_aspects else values
        rows = np.repeat(np.arange(len(self.ids)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(self.ids)))
        data = data / np.where(norms > 0, norms, 1.0)[rows]
        # float32 halves the bytes the mat-vec streams through, the bottleneck of a query
        self.matrix = sp.csr_matrix(
            (data.astype(np.float32), columns, indptr), shape=(len(self.ids), n_aspects)
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.positions

    @property
    def n_aspects(self) -> int:
        """The number of distinct aspect keys in the catalogue."""
        return len(self.keys)

    def position(self, product_id: str) -> int:
        """The row of ``product_id``; :class:`NotFoundError` when the index does not hold it."""
        try:
            return self.positions[product_id]
        except KeyError:
            raise NotFoundError(f"no product {product_id!r} in the aspect index") from None

    def rows_of(self, product_ids: Collection[str]) -> np.ndarray:
        """The rows of those ``product_ids`` that the index holds (unknown ids are skipped)."""
        get = self.positions.get
        return np.fromiter((r for r in map(get, product_ids) if r is not None), dtype=np.int64)

    def row(self, product_id: str) -> sp.csr_matrix:
        """The weighted, L2-normalised 1 × n_aspects row of ``product_id``."""
        return self.matrix[self.position(product_id)]

    def vector_of(self, product_id: str) -> dict[str, float]:
        """The weighted, normalised row of ``product_id`` as ``{key: weight}``."""
        row = self.position(product_id)
        start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return {
            self.keys[c]: float(w) for c, w in zip(self.matrix.indices[start:end], self.matrix.data[start:end])
        }

    def encode(self, vector: Mapping[str, float], normalise: bool = True) -> np.ndarray:
        """A dense query over the index's columns: ``vector`` with the same block and IDF weights.

        Keys the catalogue does not have are ignored (they cannot match any product);
        with ``normalise`` the result has unit L2 norm, or is all zeros when nothing
        of ``vector`` is known.
        """
        query = np.zeros(self.n_aspects, dtype=np.float64)
        for key, weight in vector.items():
            column = self.vocabulary.get(key)
            if column is not None:
                query[column] += weight
        query *= self.column_weights
        if normalise:
            norm = np.linalg.norm(query)
            if norm > 0:
                query /= norm
        return query.astype(np.float32)
