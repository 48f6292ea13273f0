"""Which columns are features: the treatment, outcome, id, true_uplift and --exclude never are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.features import MAX_LEVELS, FeatureEncoder, choose_columns

COLUMNS = ["customer_id", "age", "city", "treatment", "outcome", "true_uplift", "notes"]


def choose(**options):
    defaults = {"treatment": "treatment", "outcome": "outcome", "id_column": "customer_id"}
    return choose_columns(COLUMNS, **{**defaults, **options})


@pytest.mark.parametrize(("options", "expected"), [
    ({}, (["age", "city", "notes"], [])),
    ({"exclude": ["notes"]}, (["age", "city"], [])),
    ({"exclude": ["notes"], "categorical": ["city"]}, (["age"], ["city"])),
    ({"features": ["city", "age"]}, (["city", "age"], [])),
    ({"id_column": None}, (["customer_id", "age", "city", "notes"], [])),
])
def test_chosen_columns(options, expected):
    assert choose(**options) == expected


@pytest.mark.parametrize(("options", "message"), [
    ({"features": ["true_uplift"]}, "'true_uplift' cannot be a feature: it is the true uplift"),
    ({"features": ["treatment"]}, "cannot be a feature: it is the treatment"),
    ({"features": ["age", "notes"], "exclude": ["notes"]}, "'notes' cannot be a feature: it is excluded"),
    ({"features": ["customer_id"]}, "it is the id column"),
    ({"features": ["height"]}, "no column 'height'"),
    ({"exclude": ["height"]}, "no column 'height'"),
    ({"categorical": ["city"], "features": ["age"]}, "--categorical city: not among the features"),
    ({"outcome": "treatment"}, "the same column"),
    ({"exclude": ["age", "city", "notes"]}, "no feature columns"),
])
def test_bad_choices(options, message):
    with pytest.raises(InvalidInputError, match=message):
        choose(**options)


def test_encoder_one_hot_encodes_categorical_levels_and_keeps_gaps():
    frame = pd.DataFrame({"age": ["30", None, "50"], "city": ["Oslo", "Rome", " Oslo"]})
    encoder = FeatureEncoder(["age"], ["city"]).fit(frame)
    assert encoder.names == ["age", "city=Oslo", "city=Rome"]
    matrix = encoder.transform(frame)
    assert matrix.dtype == np.float32 and np.isnan(matrix[1, 0])
    assert matrix[:, 1:].tolist() == [[1, 0], [0, 1], [1, 0]]
    later = pd.DataFrame({"age": ["1"], "city": ["Paris"]})
    assert encoder.transform(later)[0, 1:].tolist() == [0, 0]
    assert encoder.unseen(later) == {"city": 1}


def test_encoder_refuses_text_in_numeric_columns_and_id_like_categories():
    with pytest.raises(InvalidInputError, match=r"'age' is not numeric \(line 3: 'old'\)"):
        FeatureEncoder(["age"]).fit(pd.DataFrame({"age": ["3", "old"]})).transform(pd.DataFrame({"age": ["3", "old"]}))
    many = pd.DataFrame({"name": [f"n{i}" for i in range(MAX_LEVELS + 1)]})
    with pytest.raises(InvalidInputError, match="is it an id or free text"):
        FeatureEncoder([], ["name"]).fit(many)
    with pytest.raises(InvalidInputError, match="has no feature column 'age'"):
        FeatureEncoder(["age"]).fit(pd.DataFrame({"age": ["1"]})).transform(pd.DataFrame({"x": ["1"]}), "new.csv")
