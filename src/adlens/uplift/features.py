"""Which columns of a campaign table are features, and how they become a matrix.

The rules (the same at fit, score and report time):

- the treatment and outcome columns, the id column, ``true_uplift`` (a simulation's
  answer) and every column named by ``--exclude`` are never features;
- without ``--features``, every other column is one;
- a feature must be numeric (empty cells are allowed: the gradient-boosting learners
  handle them natively, the logistic one imputes the median), unless it is named by
  ``--categorical``: then each of its values seen in training becomes a 0/1 column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from adlens.errors import InvalidInputError
from adlens.uplift.tables import numeric_column, require_columns

if TYPE_CHECKING:
    import pandas as pd

#: The simulation's column of true uplift: evaluation only, never a feature.
TRUE_UPLIFT = "true_uplift"
#: The id column used when the table has one and no other is named.
DEFAULT_ID = "customer_id"
#: A categorical column with more distinct values than this is refused (an id or free text).
MAX_LEVELS = 200


def choose_columns(columns: Sequence[str], *, treatment: str, outcome: str, features: Sequence[str] = (),
                   exclude: Sequence[str] = (), categorical: Sequence[str] = (), id_column: str | None = None,
                   source: str = "the table") -> tuple[list[str], list[str]]:
    """``(numeric, categorical)`` feature columns of a table with ``columns``, by the module's rules."""
    reserved = {treatment: "the treatment", outcome: "the outcome", TRUE_UPLIFT: "the true uplift"}
    if id_column:
        reserved[id_column] = "the id column"
    reserved.update({name: "excluded" for name in exclude if name not in reserved})
    if treatment == outcome:
        raise InvalidInputError(f"the treatment and the outcome are the same column {treatment!r}")
    unknown = [c for c in (*features, *exclude, *categorical) if c not in columns]
    if unknown:
        raise InvalidInputError(f"{source} has no column {', '.join(map(repr, dict.fromkeys(unknown)))} "
                                f"(its columns: {', '.join(columns)})")
    for name in features:
        if name in reserved:
            raise InvalidInputError(f"{name!r} cannot be a feature: it is {reserved[name]}")
    chosen = list(features) if features else [c for c in columns if c not in reserved]
    stray = [c for c in categorical if c not in chosen]
    if stray:
        raise InvalidInputError(f"--categorical {', '.join(stray)}: not among the features")
    if not chosen:
        raise InvalidInputError(f"{source} has no feature columns besides the treatment and the outcome")
    return [c for c in chosen if c not in categorical], [c for c in chosen if c in categorical]


def pick_id_column(frame: pd.DataFrame, id_column: str | None, source: str) -> str | None:
    """The id column: ``id_column`` (which must exist), else ``customer_id`` when the table has it."""
    if id_column:
        require_columns(frame, [id_column], source, "id column")
        return id_column
    return DEFAULT_ID if DEFAULT_ID in frame.columns else None


@dataclass
class FeatureEncoder:
    """Turns a table's feature columns into a float matrix; categorical levels are learnt in :meth:`fit`."""

    numeric: list[str]
    categorical: list[str] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The table columns read, in order."""
        return [*self.numeric, *self.categorical]

    @property
    def names(self) -> list[str]:
        """The matrix's column names: numeric columns, then ``column=value`` per categorical level."""
        return [*self.numeric, *(f"{c}={v}" for c in self.categorical for v in self.levels.get(c, []))]

    def fit(self, frame: pd.DataFrame, source: str = "the table") -> FeatureEncoder:
        """Learn the levels of the categorical columns; returns ``self``."""
        require_columns(frame, self.columns, source)
        for column in self.categorical:
            values = frame[column].dropna().str.strip()
            levels = sorted(set(values) - {""})
            if len(levels) > MAX_LEVELS:
                raise InvalidInputError(f"{source}: categorical column {column!r} has {len(levels):,} distinct "
                                        f"values (at most {MAX_LEVELS}): is it an id or free text? --exclude it")
            if not levels:
                raise InvalidInputError(f"{source}: categorical column {column!r} is empty")
            self.levels[column] = levels
        return self

    def transform(self, frame: pd.DataFrame, source: str = "the table") -> np.ndarray:
        """The feature matrix (float32, ``NaN`` for empty numeric cells); an unseen level is all zeros."""
        require_columns(frame, self.columns, source, "feature column")
        n = len(frame)
        matrix = np.empty((n, len(self.names)), dtype=np.float32)
        for i, column in enumerate(self.numeric):
            matrix[:, i] = numeric_column(frame, column, source)
        at = len(self.numeric)
        for column in self.categorical:
            levels = self.levels[column]
            values = frame[column].str.strip().to_numpy(dtype=object)
            for level in levels:
                matrix[:, at] = values == level
                at += 1
        return matrix

    def unseen(self, frame: pd.DataFrame) -> dict[str, int]:
        """Per categorical column, how many rows hold a value not seen in training."""
        found = {}
        for column in self.categorical:
            values = frame[column].dropna().str.strip()
            count = int((~values.isin(self.levels[column]) & (values != "")).sum())
            if count:
                found[column] = count
        return found
