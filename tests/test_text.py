from __future__ import annotations

import pytest

from adlens.text import with_article


@pytest.mark.parametrize(("word", "expected"), [
    ("admin", "an admin"),
    ("analyst", "an analyst"),
    ("uplift", "an uplift"),
    ("Eyewear", "an Eyewear"),
    ("screen", "a screen"),
    ("next-purchase", "a next-purchase"),
    ("", "a "),
])
def test_with_article(word: str, expected: str) -> None:
    assert with_article(word) == expected
