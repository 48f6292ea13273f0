"""Token aspects from a product's name and metadata."""

from __future__ import annotations

import pytest

from adlens.products.tokens import METADATA_WEIGHT, WORD_WEIGHT, is_categorical, product_tokens, words


def test_metadata_values_count_whole_and_name_words_count_half():
    tokens = product_tokens("Nike Men Red Leather Sneakers", {"articleType": "Sneakers", "baseColour": "Navy Blue",
                                                               "year": "2012", "season": ""})
    assert tokens["navy blue"] == METADATA_WEIGHT
    assert tokens["sneakers"] == METADATA_WEIGHT  # named in both: the stronger weight
    assert tokens["leather"] == WORD_WEIGHT and tokens["nike"] == WORD_WEIGHT
    assert "2012" not in tokens and "" not in tokens


def test_skip_columns():
    assert product_tokens("", {"sku": "AB-12", "usage": "Casual"}, skip={"sku"}) == {"casual": METADATA_WEIGHT}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Casual", True), ("12", False), ("3.5", False), ("https://x.y/z.jpg", False), ("/img/a.png", False),
     ("x" * 41, False), (7, False), ("", False)],
)
def test_is_categorical(value, expected):
    assert is_categorical(value) is expected


def test_words_drop_short_words_digits_and_stopwords():
    assert words("The 2-pack of Red & White Tees for Men") == ["red", "white", "tees", "men"]
