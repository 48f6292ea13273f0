"""Reading and writing campaign tables (CSV) with errors a person can act on.

A table is read whole into a :class:`pandas.DataFrame` with every column as text first
(``dtype=str``), so nothing is guessed silently: :func:`numeric_column` converts one
column and names the lines that are not numbers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adlens.errors import InvalidInputError
from adlens.files import atomic_path

if TYPE_CHECKING:
    import pandas as pd

#: How many offending lines an error message names.
SHOWN = 5


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The CSV at ``path`` as a DataFrame of strings (empty cells are ``NaN``).

    Raises :class:`~adlens.errors.InvalidInputError` for a missing or unreadable file,
    an empty file, a malformed CSV (naming the line), duplicate or blank column names.
    """
    import pandas as pd

    path = Path(path).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                            encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path} is empty: a CSV with a header line is expected") from None
    except pd.errors.ParserError as error:
        raise InvalidInputError(f"{path} is not a well-formed CSV: {error}") from None
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path} is not UTF-8 text (byte {error.start}): is it a CSV?") from None
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error.strerror or error}") from None
    _check_header(path, frame.columns)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InvalidInputError(f"{path} has a header but no rows")
    return frame


def _check_header(path: Path, columns: Iterable[object]) -> None:
    names = [str(c).strip() for c in columns]
    blank = [i + 1 for i, name in enumerate(names) if not name or name.startswith("Unnamed: ")]
    if blank:
        raise InvalidInputError(f"{path}: column {', '.join(map(str, blank))} of the header has no name")
    # pandas renames a repeated header "x" to "x.1": read the header line itself to tell.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    stripped = [h.strip() for h in header]
    repeated = sorted({h for h in stripped if stripped.count(h) > 1})
    if repeated:
        raise InvalidInputError(f"{path}: the header repeats column {', '.join(map(repr, repeated))}")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str, what: str = "column") -> None:
    """Raise naming every one of ``columns`` that ``frame`` lacks, and the columns it has."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:30])) + (" …" if len(frame.columns) > 30 else "")
        plural = "s" if len(missing) > 1 else ""
        raise InvalidInputError(f"{source} has no {what}{plural} {', '.join(map(repr, missing))} "
                                f"(its columns: {have})")


def lines(mask: np.ndarray) -> str:
    """The CSV line numbers (header is line 1) of the rows where ``mask`` holds, the first few."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r + 2) for r in rows[:SHOWN])
    return f"line{'s' if len(rows) > 1 else ''} {shown}" + (f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else "")


def numeric_column(frame: pd.DataFrame, column: str, source: str, allow_missing: bool = True) -> np.ndarray:
    """Column ``column`` as float64; raises naming the lines that hold text (or gaps, unless allowed)."""
    import pandas as pd

    raw = frame[column]
    try:  # the fast path: a column of numbers (pandas' own float parser, empty cells as NaN)
        values = raw.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values)
    except (ValueError, TypeError):
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = (np.isnan(values) & raw.notna().to_numpy()) | np.isinf(values)
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(raw[bad])[:3])
        raise InvalidInputError(f"{source}: column {column!r} is not numeric ({lines(bad)}: {examples}); "
                                "give numbers, or name it with --categorical or --exclude")
    if not allow_missing and np.isnan(values).any():
        raise InvalidInputError(f"{source}: column {column!r} has empty cells ({lines(np.isnan(values))})")
    return values


def binary_column(frame: pd.DataFrame, column: str, source: str, role: str) -> np.ndarray:
    """Column ``column`` as int8 0/1; anything else (text, 2, 0.5, empty cells) is an error naming lines."""
    raw = frame[column]
    text = raw.fillna("").str.strip().str.lower()
    mapped = text.map({"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1})
    bad = mapped.isna().to_numpy()
    if bad.any():
        seen = ", ".join(repr(v) for v in sorted(set(text[bad]))[:5])
        raise InvalidInputError(f"{source}: the {role} column {column!r} must be 0 or 1 on every row; "
                                f"{lines(bad)} hold {seen}")
    return mapped.to_numpy(dtype=np.int8)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], what: str = "the table") -> Path:
    """Write ``frame`` as CSV (no index) to ``path``, atomically; returns the path."""
    with atomic_path(path, what) as temporary:
        frame.to_csv(temporary, index=False, float_format="%.6g")
    return Path(path).expanduser()


def split_names(values: Sequence[str] | None) -> list[str]:
    """Column names from repeated options and/or comma-separated lists, stripped, without repeats."""
    names: list[str] = []
    for value in values or ():
        for name in str(value).split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names
