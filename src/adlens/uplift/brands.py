"""The brand and feature columns of a purchases table, read for the next-purchase model and the loyalty matrix.

Brands are stripped text (an empty cell is an error naming its CSV lines); a feature is
categorical or numeric, decided per column unless named; brands are found among known
ones by hashing, fast on a million rows of text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.errors import InvalidInputError
from adlens.uplift.tables import lines, require_columns

if TYPE_CHECKING:
    import pandas as pd

#: A feature is taken as numeric (unless named categorical) when at least this share of its cells are numbers.
NUMERIC_SHARE = 0.5


def split_features(frame: pd.DataFrame, current: str, features: Sequence[str], categorical: Sequence[str] | None,
                   source: str) -> tuple[list[str], list[str]]:
    """The features as ``(categorical, numeric)`` column lists, in the order given.

    With ``categorical`` named, every other feature is numeric; without, a feature is
    numeric when most of its cells are numbers (the rest then fail with their lines).
    """
    import pandas as pd

    names = list(dict.fromkeys([*features, *(categorical or ())]))
    if current in names:
        raise InvalidInputError(f"the current brand column {current!r} is already in the model: leave it out of "
                                "the features")
    require_columns(frame, [current, *names], source)
    if categorical is not None:
        return [c for c in names if c in categorical], [c for c in names if c not in categorical]
    numeric = []
    for column in names:
        cells = frame[column].dropna()
        numbers = pd.to_numeric(cells, errors="coerce").notna().sum()
        if len(cells) and numbers >= NUMERIC_SHARE * len(cells):
            numeric.append(column)
    return [c for c in names if c not in numeric], numeric


def brand_values(values: Any, role: str, source: str, column: str) -> np.ndarray:
    """``values`` as stripped text (an object array); an empty cell is an error naming its lines."""
    import pandas as pd

    series = pd.Series(np.asarray(values, dtype=object)).reset_index(drop=True)
    text = series.astype(str).str.strip()
    empty = (series.isna() | (text == "")).to_numpy()
    if empty.any():
        raise InvalidInputError(f"{source}: the {role} column {column!r} is empty on {lines(empty)}")
    return text.to_numpy(dtype=object)


def slots(known: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The position of each of ``values`` in ``known`` (distinct), -1 where it is not there."""
    import pandas as pd

    return pd.Index(known).get_indexer(values)


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``values`` and each value's position among them (hashing: fast on text)."""
    import pandas as pd

    codes, distinct = pd.factorize(values, sort=True)
    return np.asarray(distinct, dtype=object), codes
