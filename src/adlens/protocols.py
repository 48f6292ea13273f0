"""The seams between stages, as Protocols: what a consumer needs of an analyser, an event log, a gallery.

A consumer types its collaborator with the narrowest Protocol here instead of ``Any``, so tests
can pass a small fake and mypy still checks every call. The concrete classes
(:class:`~adlens.pipeline.Analyzer`, :class:`~adlens.store.Store`,
:class:`~adlens.gallery.Gallery`, :class:`~adlens.products.aspects.AspectExtractor`) satisfy them
structurally, without subclassing.
Concrete types appear here only under ``TYPE_CHECKING``, so importing it loads nothing heavy and
no import runs back up the stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from adlens.faces import Faces

if TYPE_CHECKING:
    from adlens.pipeline import StageTimer
    from adlens.products.types import Aspects
    from adlens.events import Event

__all__ = ["AspectSource", "EventLog", "ImageAnalyzer", "MemberGallery", "PersonAnalyzer"]


class ImageAnalyzer(Protocol):
    """Finds faces and their attributes in an image: the vision pipeline as its consumers see it."""

    def analyze(self, source: Any, timer: StageTimer | None = None) -> Faces:
        """All faces of ``source`` (path, bytes, PIL image or BGR array), in the picture's coordinates."""
        ...

    def analyze_array(self, image: np.ndarray, timer: StageTimer | None = None) -> Faces:
        """All faces of an already decoded uint8 BGR image."""
        ...


@runtime_checkable
class PersonAnalyzer(ImageAnalyzer, Protocol):
    """An analyser that can leave out what does not change while a person stays (age, gender,
    eyewear…) and add it later for chosen faces: what a screen following people uses."""

    def analyze_array(self, image: np.ndarray, timer: StageTimer | None = None, *,
                      volatile_only: bool = False) -> Faces:
        """All faces of ``image``; with ``volatile_only``, only the columns that change every frame."""
        ...

    def stable_attributes(self, image: np.ndarray, faces: Faces, timer: StageTimer | None = None) -> Faces:
        """``faces`` of ``image`` with the columns ``volatile_only`` left out."""
        ...


class EventLog(Protocol):
    """The append-only log of decisions, plays and rewards (the store's events table)."""

    def append_event(self, event: Event) -> int:
        """Insert one event and return its id."""
        ...

    def events(self, since: datetime | None = None, until: datetime | None = None,
               kinds: Iterable[str] | None = None, screen: str | None = None) -> list[Event]:
        """Events oldest first, filtered by time (``since`` ≤ at < ``until``), kind and screen."""
        ...

    def count_events(self, kind: str, since: datetime | None = None, ad_id: str | None = None,
                     customer_id: str | None = None) -> int:
        """How many ``kind`` events since ``since``, for one ad and/or one member."""
        ...


class AspectSource(Protocol):
    """Describes product photos: the aspect extractor as the catalogue import and evaluation see it."""

    def extract_batch(self, images: Sequence[np.ndarray]) -> list[Aspects]:
        """The aspects of each BGR photo, in order."""
        ...


class MemberGallery(Protocol):
    """Recognises enrolled members from face embeddings (members mode)."""

    def identify_embeddings(self, embeddings: np.ndarray) -> list[tuple[str | None, float | None]]:
        """``(customer or None, nearest distance or None)`` per row of ``embeddings`` ``(n, 128)``."""
        ...
