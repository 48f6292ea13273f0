"""The base of every record adlens keeps as JSON and reads back: frozen, written whole, read strictly.

An audience summary, a decision's candidates, an event's data: each is a :class:`Payload`,
a frozen pydantic model. :meth:`Payload.to_json` is what is stored or sent;
:meth:`Payload.from_json` reads it back and refuses a missing field or a wrong type
(:class:`pydantic.ValidationError`) rather than default it to 0. Keys a newer writer
added are ignored.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """A frozen record with :meth:`to_json` and a strict :meth:`from_json`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, keys in declaration order."""
        return self.model_dump()

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """The record held in ``data``; :class:`pydantic.ValidationError` when it is not one."""
        return cls.model_validate(data)
