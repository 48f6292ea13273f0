"""The base of stored records: frozen, to_json in declaration order, from_json strict."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adlens.payload import Payload


class Visit(Payload):
    screen: str
    faces: int
    seen: bool = True


def test_to_json_keeps_the_declared_order_and_from_json_reads_it_back() -> None:
    visit = Visit(screen="door", faces=2)
    assert list(visit.to_json()) == ["screen", "faces", "seen"]
    assert Visit.from_json(visit.to_json()) == visit


@pytest.mark.parametrize(("data", "expected"), [
    ({"screen": "door", "faces": 1, "later": "a newer writer's key"}, Visit(screen="door", faces=1)),
    ({"screen": "door", "faces": 1, "seen": False}, Visit(screen="door", faces=1, seen=False)),
])
def test_from_json_ignores_unknown_keys(data: dict[str, object], expected: Visit) -> None:
    assert Visit.from_json(data) == expected


@pytest.mark.parametrize(("data", "problem"), [
    ({"screen": "door"}, "faces\n  Field required"),
    ({"screen": "door", "faces": "many"}, "faces\n  Input should be a valid integer"),
    ("not an object", "Input should be a valid dictionary"),
])
def test_from_json_refuses_what_it_cannot_read(data: object, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Visit.from_json(data)


def test_records_are_frozen() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        Visit(screen="door", faces=1).faces = 2  # type: ignore[misc]
