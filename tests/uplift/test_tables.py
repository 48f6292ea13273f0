"""Reading campaign tables: every bad file gets an error that says what and where."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.tables import (
    binary_column,
    numeric_column,
    read_table,
    require_columns,
    split_names,
    write_table,
)


def write(tmp_path, text: str | bytes, name: str = "t.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_reads_everything_as_text_keeping_ids_and_gaps(tmp_path):
    frame = read_table(write(tmp_path, "\ufeffcustomer_id, age\n007,31\n008,\n"))
    assert list(frame.columns) == ["customer_id", "age"]
    assert frame["customer_id"].tolist() == ["007", "008"]
    assert frame["age"].isna().tolist() == [False, True]


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ("a,b\n", "no rows"),
    ("a,b\n1,2\n3,4,5\n", "not a well-formed CSV"),
    ("a,a\n1,2\n", "repeats column 'a'"),
    ("a,,b\n1,2,3\n", "has no name"),
    (b"a,b\n\xff\xfe,1\n", "not UTF-8"),
])
def test_bad_files(tmp_path, text, message):
    with pytest.raises(InvalidInputError, match=message):
        read_table(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="no such file"):
        read_table(tmp_path / "nothing.csv")


def test_require_columns_names_all_missing_and_what_there_is():
    frame = pd.DataFrame({"a": ["1"], "b": ["2"]})
    with pytest.raises(InvalidInputError, match=r"no columns 'x', 'y' \(its columns: a, b\)"):
        require_columns(frame, ["a", "x", "y"], "data.csv")


def test_numeric_column_names_the_lines_with_text():
    frame = pd.DataFrame({"age": ["31", "forty", "22", None, "n/a"]})
    with pytest.raises(InvalidInputError, match=r"'age' is not numeric \(lines 3, 6: 'forty', 'n/a'\)"):
        numeric_column(frame, "age", "data.csv")
    values = numeric_column(pd.DataFrame({"age": ["31", None]}), "age", "data.csv")
    assert values[0] == 31 and np.isnan(values[1])
    with pytest.raises(InvalidInputError, match="empty cells"):
        numeric_column(pd.DataFrame({"age": ["31", None]}), "age", "data.csv", allow_missing=False)
    with pytest.raises(InvalidInputError, match="not numeric"):
        numeric_column(pd.DataFrame({"x": ["1", "inf"]}), "x", "data.csv")


@pytest.mark.parametrize("values", [["0", "1", "true", "FALSE", "1.0"]])
def test_binary_column_accepts_zero_one_spellings(values):
    assert binary_column(pd.DataFrame({"t": values}), "t", "d", "treatment").tolist() == [0, 1, 1, 0, 1]


@pytest.mark.parametrize("bad", ["2", "0.5", "yes", None])
def test_binary_column_refuses_anything_else(bad):
    frame = pd.DataFrame({"t": ["0", "1", bad]})
    with pytest.raises(InvalidInputError, match="treatment column 't' must be 0 or 1 on every row; line 4"):
        binary_column(frame, "t", "d", "treatment")


def test_write_table_is_atomic_and_round_trips(tmp_path):
    path = write_table(pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]}), tmp_path / "sub" / "out.csv")
    assert path.read_text() == "a,b\n1,0.5\n2,0.25\n"
    assert [p.name for p in path.parent.iterdir()] == ["out.csv"]


def test_split_names():
    assert split_names(["a,b", " c ", "a", ""]) == ["a", "b", "c"]
    assert split_names(None) == []
