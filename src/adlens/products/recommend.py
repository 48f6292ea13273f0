"""Ranking products for a taste profile, products like a photo, and what to show a customer next.

:class:`Recommender` scores the whole catalogue with one sparse mat-vec: the cosine
between the profile (encoded with the catalogue's block and IDF weights) and every
product row of the :class:`~adlens.products.vectors.AspectIndex`. A profile with no
positive weight is a cold start, answered by popularity. :class:`Shuffler` picks the
products a customer is asked about, one by one.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.profiles import is_cold
from adlens.products.types import split_key
from adlens.products.vectors import AspectIndex

#: An aspect contributing less than this share of a product's score is not worth naming.
MIN_REASON_SHARE = 0.05
#: Rows the Shuffler's k-means is fitted on (the rest are assigned): ~1 s at 100k products.
FAMILY_SAMPLE = 2000


@dataclass(frozen=True)
class Recommendation:
    """One recommended product: its cosine with the profile and why (``cold_start``: by popularity)."""

    product: str
    score: float
    reasons: list[str] = field(default_factory=list)
    cold_start: bool = False


def fallback_order(ids: Sequence[str]) -> np.ndarray:
    """A deterministic rank per product for breaking ties: by CRC-32 of the id, then by position.

    Hashing rather than catalogue order keeps a popularity-less cold start from showing
    the first ten rows of the import (often one category) while staying the same on
    every run and every machine.
    """
    hashes = np.fromiter((zlib.crc32(i.encode("utf-8")) for i in ids), dtype=np.int64, count=len(ids))
    order = np.lexsort((np.arange(len(ids)), hashes))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


class Recommender:
    """Content-based recommendations over an :class:`AspectIndex` (see the module docstring)."""

    def __init__(self, index: AspectIndex, max_reasons: int = 3, dislike_balance: float = 0.5) -> None:
        self.index = index
        self.max_reasons = max_reasons
        self.dislike_balance = dislike_balance
        self.fallback = fallback_order(index.ids)

    def is_cold(self, profile_weights: Mapping[str, float]) -> bool:
        """Is this profile a cold start: no positive weight on an aspect the catalogue has?"""
        known = self.index.vocabulary
        return is_cold({key: w for key, w in profile_weights.items() if key in known})

    def query(self, profile_weights: Mapping[str, float]) -> np.ndarray:
        """The profile as a unit query over the index: liked and disliked parts normalised apart.

        The positive part (aspects net liked) and the negative part (net disliked) are
        each scaled to unit norm and the negative one weighted by ``dislike_balance``
        (Rocchio's β) before the whole is normalised: a customer usually answers many
        more dislikes than likes, and summed dislikes of generic aspects ("men",
        "casual") would otherwise outweigh the few liked ones and push every product
        below zero.
        """
        weighted = self.index.encode(profile_weights, normalise=False)
        liked, disliked = np.maximum(weighted, 0), np.minimum(weighted, 0)
        query = liked / max(float(np.linalg.norm(liked)), 1e-12)
        query += self.dislike_balance * disliked / max(float(np.linalg.norm(disliked)), 1e-12)
        norm = float(np.linalg.norm(query))
        return (query / norm if norm > 0 else query).astype(np.float32)

    def candidates(self, exclude: Collection[str] = (), allowed: Collection[str] | None = None) -> np.ndarray:
        """A boolean mask of the rows that may be recommended: in ``allowed`` (if given), not in ``exclude``."""
        if allowed is None:
            mask = np.ones(len(self.index), dtype=bool)
        else:
            mask = np.zeros(len(self.index), dtype=bool)
            mask[self.index.rows_of(allowed)] = True
        mask[self.index.rows_of(exclude)] = False
        return mask

    def recommend(
        self,
        profile_weights: Mapping[str, float],
        k: int = 10,
        exclude: Collection[str] = frozenset(),
        popularity: Mapping[str, float] | None = None,
        allowed: Collection[str] | None = None,
    ) -> list[Recommendation]:
        """The ``k`` products most similar to the profile, best first, never one of ``exclude``.

        ``allowed`` restricts the candidates (e.g. in stock). When the profile has no
        positive weight on a known aspect (cold start) the products are ranked by
        ``popularity`` (product → score; ties and missing entries fall back to
        :func:`fallback_order`), those resembling a dislike last, with reason
        ``"popular"`` and ``cold_start=True``. When fewer than ``k`` products share an
        aspect with the profile, the rest are filled the same way (``cold_start=False``).
        """
        if k <= 0 or not len(self.index):
            return []
        query = self.query(profile_weights)
        scores = self.index.matrix @ query
        mask = self.candidates(exclude, allowed)
        if self.is_cold(profile_weights):
            return self._popular(mask, scores, popularity, k, cold_start=True)

        count = min(k, int(mask.sum()))
        top = self._top(np.flatnonzero(mask & (scores > 0)), scores, count)
        found = [Recommendation(self.index.ids[r], float(scores[r]), self.reasons(r, query)) for r in top]
        if len(found) < count:
            mask[top] = False
            found += self._popular(mask, scores, popularity, count - len(found), cold_start=False)
        return found

    def _top(self, rows: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
        """The ``count`` rows of ``rows`` with the largest ``values``, best first, ties in fallback order.

        Linear time: a partition finds the ``count``-th largest value; only the rows tied
        with it are ordered by :func:`fallback_order` to fill the last places.
        """
        if count <= 0 or not len(rows):
            return rows[:0]
        if len(rows) > count:
            candidate = values[rows]
            threshold = np.partition(candidate, len(rows) - count)[len(rows) - count]
            above, tied = rows[candidate > threshold], rows[candidate == threshold]
            tied = tied[np.argsort(self.fallback[tied], kind="stable")[: count - len(above)]]
            rows = np.concatenate([above, tied])
        return rows[np.lexsort((self.fallback[rows], -values[rows]))]

    def _popular(
        self, mask: np.ndarray, scores: np.ndarray, popularity: Mapping[str, float] | None, k: int, cold_start: bool
    ) -> list[Recommendation]:
        """The ``k`` most popular rows of ``mask``; rows with a negative score (like a dislike) last."""
        popular = np.zeros(len(self.index), dtype=np.float64)
        if popularity:
            rows = np.fromiter(map(self.index.positions.get, popularity, repeat(-1)), dtype=np.int64,
                               count=len(popularity))
            values = np.fromiter(popularity.values(), dtype=np.float64, count=len(popularity))
            popular[rows[rows >= 0]] = values[rows >= 0]
        chosen = self._top(np.flatnonzero(mask & (scores >= 0)), popular, k)
        if len(chosen) < k:
            chosen = np.concatenate([chosen, self._top(np.flatnonzero(mask & (scores < 0)), popular, k - len(chosen))])
        return [Recommendation(self.index.ids[r], float(scores[r]), ["popular"], cold_start) for r in chosen]

    def reasons(self, row: int, query: np.ndarray) -> list[str]:
        """Why row ``row`` scored: its aspects contributing most to the cosine, named without their kind.

        Tokens and colours read ``"liked: red, leather, sneakers"``; ImageNet concepts
        ``"looks like: running shoe"``. Names are deduplicated ("colour:red" and
        "token:red" are one "red").
        """
        matrix = self.index.matrix
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        columns = matrix.indices[start:end]
        contributions = matrix.data[start:end] * query[columns]
        total = float(contributions.sum())
        liked: list[str] = []
        looks: list[str] = []
        for i in np.argsort(-contributions, kind="stable"):
            if contributions[i] <= max(MIN_REASON_SHARE * total, 0.0) or len(liked) + len(looks) >= self.max_reasons:
                break
            kind, name = split_key(self.index.keys[columns[i]])
            if name not in liked and name not in looks:
                (looks if kind == "concept" else liked).append(name)
        reasons = [f"liked: {', '.join(liked)}"] if liked else []
        return reasons + ([f"looks like: {', '.join(looks)}"] if looks else [])


def similar(embeddings: np.ndarray, ids: Sequence[str], product_id: str, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` products whose visual embedding is closest (cosine) to ``product_id``'s, itself excluded.

    ``embeddings`` is ``(n, d)``, one L2-normalised row per id, in the order of ``ids``.
    """
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or len(embeddings) != len(ids):
        raise InvalidInputError(f"need one embedding row per id: {embeddings.shape} for {len(ids)} ids")
    try:
        row = list(ids).index(product_id)
    except ValueError:
        raise NotFoundError(f"no embedding for product {product_id!r}") from None
    scores = embeddings @ embeddings[row]
    scores[row] = -np.inf
    count = min(k, len(ids) - 1)
    if count <= 0:
        return []
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(ids[i], float(scores[i])) for i in top]


class Shuffler:
    """Chooses the next product to ask a customer about, one at a time.

    Policy: with probability ``epsilon * 0.5 ** (answers / explore_half_life)`` (0.2 at
    first, 0.1 after 10 answers, 0.05 after 20) — and always while the profile is a cold
    start — *explore*: pick the product *family* (a k-means cluster of the catalogue's
    rows, computed once) in which the customer has rated the fewest products, ties broken
    at random, and show one of its unrated products (the most popular one if
    ``popularity`` is given, else a random one). At cold start this is a round-robin
    over the families, so the first answers cover the catalogue. Otherwise *exploit*:
    show the best unrated recommendation. Only ``rated`` carries state, so the policy
    needs nothing stored besides the answers themselves.
    """

    def __init__(
        self,
        recommender: Recommender,
        epsilon: float = 0.2,
        explore_half_life: float = 10.0,
        n_families: int = 12,
        popularity: Mapping[str, float] | None = None,
        random_state: int = 0,
    ) -> None:
        self.recommender = recommender
        self.epsilon = epsilon
        self.explore_half_life = explore_half_life
        self.n_families = n_families
        self.popularity = popularity
        self.random_state = random_state
        self._families: np.ndarray | None = None

    @property
    def families(self) -> np.ndarray:
        """The family of every product: its k-means cluster, fitted once on at most :data:`FAMILY_SAMPLE` rows."""
        if self._families is None:
            from sklearn.cluster import KMeans
            from sklearn.exceptions import ConvergenceWarning

            matrix = self.recommender.index.matrix
            n = matrix.shape[0]
            k = min(self.n_families, n)
            if k <= 1 or matrix.shape[1] == 0:
                self._families = np.zeros(n, dtype=np.int64)
            else:
                rng = np.random.default_rng(self.random_state)
                sample = matrix[np.sort(rng.choice(n, size=min(n, FAMILY_SAMPLE), replace=False))]
                with warnings.catch_warnings():  # fewer distinct rows than k: some families stay empty
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model = KMeans(n_clusters=k, n_init=3, random_state=self.random_state).fit(sample)
                self._families = model.predict(matrix).astype(np.int64)
        return self._families

    def exploration_rate(self, answers: int) -> float:
        """The chance of exploring after ``answers`` answers."""
        return self.epsilon * 0.5 ** (answers / self.explore_half_life)

    def next(self, profile: Mapping[str, float], rated: Collection[str], rng: np.random.Generator) -> str | None:
        """The id of the next product to show (see the class docstring); ``None`` once every product is rated."""
        index = self.recommender.index
        available = np.ones(len(index), dtype=bool)
        rated_rows = index.rows_of(rated)
        available[rated_rows] = False
        if not available.any():
            return None
        explore = rng.random() < self.exploration_rate(len(rated))
        if not explore and not self.recommender.is_cold(profile):
            best = self.recommender.recommend(profile, k=1, exclude=rated, popularity=self.popularity)
            if best:
                return best[0].product
        return self._explore(available, rated_rows, rng)

    def _explore(self, available: np.ndarray, rated_rows: np.ndarray, rng: np.random.Generator) -> str:
        families = self.families
        n_families = int(families.max()) + 1
        seen = np.bincount(families[rated_rows], minlength=n_families).astype(np.float64)
        seen[np.bincount(families[available], minlength=n_families) == 0] = np.inf
        family = rng.choice(np.flatnonzero(seen == seen.min()))
        rows = np.flatnonzero(available & (families == family))
        ids = self.recommender.index.ids
        if self.popularity:
            popular = np.array([self.popularity.get(ids[r], 0.0) for r in rows])
            best = rows[popular == popular.max()]
            return ids[int(rng.choice(best))]
        return ids[int(rng.choice(rows))]
