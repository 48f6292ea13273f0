"""Loyalty: where owners of each brand go next, observed and as the next-purchase model predicts.

:func:`loyalty_matrix` counts a table's transitions (rows: current brand, columns:
next brand) or averages the model's predicted probabilities per current brand; the
diagonal is each brand's loyalty, the share of its owners who buy it again. The plots
and the HTML report (:mod:`adlens.uplift.loyalty_report`) draw on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.uplift.brands import brand_values, slots
from adlens.uplift.tables import require_columns

if TYPE_CHECKING:
    import pandas as pd

    from adlens.uplift.nextpurchase import NextPurchaseModel

#: Brands drawn by name in the matrix plot; the rest are summed as "other".
MATRIX_BRANDS = 12
OTHER = "other"


@dataclass(frozen=True)
class Transitions:
    """Counts of owners of each ``current`` brand (rows) by the brand they bought ``next`` (columns).

    The columns start with the row brands in the same order, so ``counts[i, i]`` is
    brand ``i`` bought again; brands only ever bought next follow. A predicted matrix
    holds expected counts (sums of probabilities). ``kind`` is ``observed`` or ``predicted``.
    """

    current: list[str]
    next: list[str]
    counts: np.ndarray
    kind: str

    @property
    def owners(self) -> np.ndarray:
        """Owners of each row brand."""
        return self.counts.sum(axis=1)

    @property
    def shares(self) -> np.ndarray:
        """Each row divided by its owners: P(next | current)."""
        return self.counts / np.maximum(self.owners, 1e-12)[:, None]

    def loyalty(self) -> dict[str, float]:
        """Per brand, the share of its owners who buy it again (the diagonal)."""
        shares = self.shares
        return {brand: float(shares[i, i]) for i, brand in enumerate(self.current) if brand != OTHER}

    def destinations(self, brand: str, top: int = 3) -> list[tuple[str, float]]:
        """Where ``brand``'s leavers go: the ``top`` next brands and their share of the leavers."""
        i = self.current.index(brand)
        row = self.counts[i].astype(float).copy()
        row[i] = 0.0
        left = row.sum()
        order = [j for j in np.argsort(-row, kind="stable")[:top] if row[j] > 0]
        return [(self.next[j], float(row[j] / left)) for j in order]

    def reindex(self, current: Sequence[str], next: Sequence[str]) -> Transitions:
        """The same counts laid out on other row and column brands (missing ones are zero)."""
        counts = np.zeros((len(current), len(next)))
        rows = slots(np.array(self.current, dtype=object), np.array(current, dtype=object))
        columns = slots(np.array(self.next, dtype=object), np.array(next, dtype=object))
        found_r, found_c = np.flatnonzero(rows >= 0), np.flatnonzero(columns >= 0)
        counts[np.ix_(found_r, found_c)] = self.counts[np.ix_(rows[found_r], columns[found_c])]
        return Transitions(list(current), list(next), counts, self.kind)

    def top(self, n: int = MATRIX_BRANDS) -> Transitions:
        """The ``n`` brands with most owners by name (rows and columns), every other one summed as ``other``."""
        if len(self.current) <= n and len(self.next) <= n + 1:
            return self
        named = self.current[:n]
        keep = slots(np.array(self.next, dtype=object), np.array(named, dtype=object))
        rest_columns = np.setdiff1d(np.arange(len(self.next)), keep)
        counts = np.column_stack([self.counts[:, keep], self.counts[:, rest_columns].sum(axis=1)])
        counts = np.vstack([counts[:n], counts[n:].sum(axis=0, keepdims=True)]) if len(self.current) > n else counts
        current = named + ([OTHER] if len(self.current) > n else [])
        return Transitions(current, [*named, OTHER], counts, self.kind)

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        """Plain data for JSON: row and column brands, owners, counts and row shares."""
        counts = self.counts.astype(int) if self.kind == "observed" else np.round(self.counts, 2)
        return {"kind": self.kind, "current": self.current, "next": self.next,
                "owners": np.round(self.owners, 2).tolist(), "counts": counts.tolist(),
                "shares": np.round(self.shares, digits).tolist()}


def loyalty_matrix(frame: pd.DataFrame, model: NextPurchaseModel | None = None, current: str | None = None,
                   next: str | None = None, source: str = "the table") -> Transitions:
    """The transition matrix of ``frame``: observed (its ``next`` column), or the ``model``'s mean prediction.

    Without a model the columns default to ``manufacturer`` → ``next_manufacturer``;
    with one, ``current`` is the model's and no next column is needed. Rows are ordered
    by owners, most first.
    """
    import pandas as pd

    if model is not None:
        current = model.current
        frame = frame.reset_index(drop=True)
        require_columns(frame, [current], source)
        owned = brand_values(frame[current], "current brand", source, current)
        proba = model.predict_proba(frame, source=source)
        codes, brands = pd.factorize(owned)
        counts = np.zeros((len(brands), proba.shape[1]))
        np.add.at(counts, codes, proba)
        return _ordered(list(brands), list(model.classes_), counts, "predicted")
    current = current or "manufacturer"
    next = next or "next_manufacturer"
    require_columns(frame, [current, next], source)
    owned = brand_values(frame[current], "current brand", source, current)
    bought = brand_values(frame[next], "next brand", source, next)
    table = pd.crosstab(pd.Series(owned, name="current"), pd.Series(bought, name="next"))
    return _ordered(list(table.index), list(table.columns), table.to_numpy(dtype=np.int64), "observed")


def _ordered(rows: list[str], columns: list[str], counts: np.ndarray, kind: str) -> Transitions:
    """Rows by owners (then name); columns: the row brands, then the others by how often bought."""
    order = sorted(range(len(rows)), key=lambda i: (-counts[i].sum(), rows[i]))
    current = [rows[i] for i in order]
    totals = dict(zip(columns, counts.sum(axis=0)))
    others = sorted((c for c in columns if c not in set(current)), key=lambda c: (-totals[c], c))
    laid = Transitions(rows, columns, counts, kind).reindex(current, current + others)
    return laid if kind == "predicted" else Transitions(laid.current, laid.next, laid.counts.astype(np.int64), kind)
