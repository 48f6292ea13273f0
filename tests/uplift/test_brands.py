"""Reading a purchases table's brand and feature columns."""

from __future__ import annotations

import pandas as pd
import pytest

from adlens.uplift.brands import split_features


@pytest.mark.parametrize(("categorical", "expected"), [
    (None, (["residence"], ["age"])),
    (["residence", "age"], (["age", "residence"], [])),
    (["residence"], (["residence"], ["age"])),
    (["region"], (["region"], ["age", "residence"])),
])
def test_split_features(categorical, expected):
    frame = pd.DataFrame({"manufacturer": ["a", "b"], "age": ["30", "x"], "residence": ["city", "town"],
                          "region": ["1", "2"]})
    features = ["age", "residence"] + (["region"] if categorical == ["region"] else [])
    categorical_, numeric = split_features(frame, "manufacturer", features, categorical, "t")
    assert (sorted(categorical_), numeric) == (sorted(expected[0]), expected[1])
