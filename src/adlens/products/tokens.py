"""Text aspects of a product: metadata values (category, colour, usage…) and the words of its name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Weight of a whole metadata value ("sports shoes") and of a single word of the name.
METADATA_WEIGHT = 1.0
WORD_WEIGHT = 0.5
MAX_VALUE_LENGTH = 40

_WORD = re.compile(r"[^\W\d_]{3,64}", re.UNICODE)
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_STOPWORDS = frozenset(
    "and the for with from into this that your our you are was not all any new set pack of "
    "und der die das les des pour avec".split()
)


def words(text: str) -> list[str]:
    """Lower-cased words of three or more letters, stop-words dropped, in order of appearance."""
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text or "")) if w not in _STOPWORDS]


def is_categorical(value: Any) -> bool:
    """Does a metadata value name a category (short text), rather than a number, a URL or prose?"""
    if not isinstance(value, str):
        return False
    value = value.strip()
    return (
        0 < len(value) <= MAX_VALUE_LENGTH
        and not _NUMBER.match(value)
        and "://" not in value
        and not value.startswith("/")
    )


def product_tokens(name: str, attributes: Mapping[str, Any], skip: Iterable[str] = ()) -> dict[str, float]:
    """The token aspects of a product: its categorical metadata values and the words of its name.

    A metadata value counts whole ("navy blue", "sports shoes") with weight
    :data:`METADATA_WEIGHT`; each word of the name counts :data:`WORD_WEIGHT`, so a
    brand or a material ("leather") named only in the title still becomes an aspect.
    Columns in ``skip`` (ids, image paths…) are ignored.
    """
    skipped = set(skip)
    tokens: dict[str, float] = {}
    for word in words(name):
        tokens[word] = WORD_WEIGHT
    for column, value in attributes.items():
        if column in skipped or not is_categorical(value):
            continue
        token = " ".join(value.lower().split())
        tokens[token] = max(tokens.get(token, 0.0), METADATA_WEIGHT)
    return tokens
