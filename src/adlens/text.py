"""Small helpers for the text of messages."""

from __future__ import annotations


def with_article(word: str) -> str:
    """``word`` after its indefinite article: ``an admin``, ``an uplift``, ``a screen``.

    The article follows the first letter (a vowel takes "an"), which is right
    for the words adlens puts in messages (roles, model kinds).
    """
    return f"{'an' if word[:1].lower() in ('a', 'e', 'i', 'o', 'u') else 'a'} {word}"
