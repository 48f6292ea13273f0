"""The consented gallery wired together: enrol with consent, identify members, erase.

Only this module combines the analyser, the cipher, the store and the index. In
``anonymous`` mode (the default) it refuses to enrol or identify anyone and stores
nothing; in ``members`` mode it recognises enrolled customers whose consent has not
expired and answers "unknown" (``None``) for everybody else. Erasure works in every
mode. Raw images are never stored: only encrypted 128-d embeddings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.crypto import EmbeddingCipher
from adlens.errors import (
    AdlensError,
    ConsentRequiredError,
    InvalidInputError,
    MultipleFacesError,
    NoFaceFoundError,
)
from adlens.faces import Faces
from adlens.gallery.live import LiveIndex
from adlens.protocols import ImageAnalyzer
from adlens.settings import Settings, get_settings
from adlens.store.base import check_id
from adlens.store.gallery import MAX_EMBEDDINGS
from adlens.times import to_utc, utcnow

if TYPE_CHECKING:
    from adlens.store import Store

ANONYMOUS_MESSAGE = (
    "the gallery is off in anonymous mode (ADLENS_MODE=anonymous); "
    "set ADLENS_MODE=members to enrol or identify customers"
)


@dataclass(frozen=True)
class Enrolment:
    """What an enrolment did: embeddings added now, held in all, and the consent recorded."""

    customer: str
    added: int
    total: int
    consented_at: datetime
    expires_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, times in ISO 8601 (UTC)."""
        return {"customer": self.customer, "added": self.added, "total": self.total,
                "consented_at": _iso(self.consented_at), "expires_at": _iso(self.expires_at)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Match:
    """One face of an identified image: who it is (``None``: unknown) and the nearest member's distance."""

    face: int
    box: list[float]
    customer: str | None
    distance: float | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``adlens gallery identify --json`` prints for this face."""
        distance = None if self.distance is None else round(self.distance, 4)
        return {"face": self.face, "box": [round(v, 1) for v in self.box], "customer": self.customer,
                "distance": distance}


@dataclass(frozen=True)
class Member:
    """An enrolled customer as listed: consent, expiry and how many embeddings (never the embeddings)."""

    customer: str
    consent_text: str
    consented_at: datetime
    expires_at: datetime | None
    expired: bool
    embeddings: int

    def to_dict(self) -> dict[str, Any]:
        """The consent register's entry as JSON (``adlens gallery list --json``); never an embedding."""
        return {"customer": self.customer, "consent": self.consent_text, "consented_at": _iso(self.consented_at),
                "expires_at": _iso(self.expires_at), "expired": self.expired, "embeddings": self.embeddings}


#: Seconds a cached index is trusted before the store's change-log head is read again (one index
#: lookup). Changes made through the same :class:`Gallery` apply at once; those of another process
#: (the CLI, another API worker) within this time, or at once when a match turns out stale.
VERSION_CHECK_SECONDS = 1.0


def _name(source: Any, position: int) -> str:
    """How an error message names an image: its path, else its position."""
    return str(source) if isinstance(source, (str, os.PathLike)) else f"image {position + 1}"


class Gallery:
    """Enrolled customers over one store.

    Args:
        store: an open :class:`~adlens.store.Store`.
        settings: mode and match threshold (default: :func:`get_settings`).
        analyzer: a loaded :class:`~adlens.pipeline.Analyzer` with embeddings; created
            on first use (detector and embedder only) when not given.
    """

    def __init__(self, store: Store, settings: Settings | None = None, analyzer: ImageAnalyzer | None = None) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self.cipher = EmbeddingCipher(self.settings)
        self._analyzer = analyzer
        self._live = LiveIndex(store, self.cipher, self.settings.gallery_snapshots,
                               check_seconds=lambda: VERSION_CHECK_SECONDS)

    @property
    def analyzer(self) -> ImageAnalyzer:
        """The analyser finding and embedding faces (loaded on first use)."""
        if self._analyzer is None:
            from adlens.pipeline import analyzer_for

            self._analyzer = analyzer_for(self.settings, attributes=[])
        return self._analyzer

    def require_members_mode(self) -> None:
        """:class:`~adlens.errors.ConsentRequiredError` unless ``ADLENS_MODE`` is members."""
        if self.settings.mode != "members":
            raise ConsentRequiredError(ANONYMOUS_MESSAGE)

    def _analyse(self, source: Any) -> tuple[Faces, np.ndarray]:
        """The faces of ``source`` and their embeddings (an empty array when there is no face)."""
        faces = self.analyzer.analyze(source)
        if faces.embeddings is not None:
            return faces, faces.embeddings
        if len(faces):
            raise InvalidInputError("the gallery's analyzer computes no embeddings: give it Analyzer(embed=True)")
        return faces, np.empty((0, 0), dtype=np.float32)

    # --- enrolment --------------------------------------------------------------

    def enrol(
        self,
        customer_id: str,
        images: Sequence[Any],
        consent_text: str,
        expires_at: datetime | None = None,
        advance: Callable[[], object] | None = None,
        names: Sequence[str] | None = None,
    ) -> Enrolment:
        """Store one encrypted embedding per image of ``customer_id`` with their consent.

        All or nothing: every image must show exactly one face, else nothing is stored
        and the error lists each bad image with its reason (by ``names``, else its path or
        position). ``advance`` (optional) is called once per image analysed, for a progress bar.
        """
        self.require_members_mode()
        check_id(customer_id, "customer")
        if not isinstance(consent_text, str) or not consent_text.strip():
            raise ConsentRequiredError(f"enrolling {customer_id!r} needs the consent text they agreed to")
        if expires_at is not None and to_utc(expires_at) <= utcnow():
            raise InvalidInputError(f"consent expiry {to_utc(expires_at).isoformat()} is already past")
        if not images:
            raise InvalidInputError("enrolment needs at least one image")
        vectors, problems = [], []
        for position, source in enumerate(images):
            try:
                faces, embeddings = self._analyse(source)
                if len(faces) == 0:
                    raise NoFaceFoundError("no face found")
                if len(faces) > 1:
                    raise MultipleFacesError(f"{len(faces)} faces found; enrolment needs exactly one")
                vectors.append(embeddings[0])
            except AdlensError as error:
                problems.append((names[position] if names else _name(source, position), error))
            if advance is not None:
                advance()
        if problems:
            kinds = {type(error) for _, error in problems}
            kind = kinds.pop() if len(kinds) == 1 else InvalidInputError
            listed = "; ".join(f"{name}: {error.message}" for name, error in problems)
            raise kind(f"nothing enrolled for {customer_id!r}, {len(problems)} of {len(images)} images "
                       f"refused: {listed}")
        tokens = [self.cipher.encrypt(v) for v in vectors]
        with self.store.transaction() as session:
            self.store.add_customer(customer_id, session)
            member = self.store.enrol_member(customer_id, consent_text.strip(), expires_at, tokens, session,
                                             keep=MAX_EMBEDDINGS)
        self._live.stale = True  # seen by the next identification at once, through the change log
        return Enrolment(customer_id, len(tokens), member.embeddings, member.consented_at, member.expires_at)

    # --- identification ---------------------------------------------------------

    def identify(self, source: Any) -> list[Match]:
        """Who each face of ``source`` (path, bytes or BGR array) is: a member, or ``None`` for unknown."""
        self.require_members_mode()
        faces, embeddings = self._analyse(source)
        if len(faces) == 0:
            return []
        found = self.identify_embeddings(embeddings)
        return [Match(i, [float(v) for v in faces.boxes[i]], customer, distance)
                for i, (customer, distance) in enumerate(found)]

    def identify_embeddings(self, embeddings: np.ndarray) -> list[tuple[str | None, float | None]]:
        """``(customer or None, nearest distance or None)`` per row of ``embeddings`` ``(n, 128)``.

        A face matches when its nearest unexpired member lies within
        ``settings.gallery_threshold``; otherwise it is unknown, still with the distance
        of that nearest member (``None`` when the gallery is empty).
        """
        self.require_members_mode()
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2:
            raise InvalidInputError(f"embeddings must be (n, d), got shape {embeddings.shape}")
        return self._live.identify(embeddings, self.settings.gallery_threshold, utcnow())

    def changed(self) -> None:
        """Note that the store's gallery changed elsewhere (another worker or host said so).

        The next identification applies the store's change log first instead of waiting
        for the periodic check (``VERSION_CHECK_SECONDS``); nothing is rebuilt.
        """
        self._live.stale = True

    # --- members and erasure ----------------------------------------------------

    def members(self) -> list[Member]:
        """Every enrolled customer with their consent; works in any mode (it identifies nobody)."""
        now = utcnow()
        return [Member(m.customer, m.consent_text, m.consented_at, m.expires_at,
                       m.expires_at is not None and m.expires_at <= now, m.embeddings)
                for m in self.store.gallery_members()]

    def delete(self, customer_id: str) -> dict[str, int]:
        """Erase a customer in one transaction, in any mode, and say how many rows went.

        Consent, embeddings, profile, feedback and every event naming them are removed
        (:meth:`~adlens.store.customers.CustomersMixin.remove_customer`); the counts are
        taken in the same transaction. :class:`~adlens.errors.NotFoundError` if unknown.
        """
        check_id(customer_id, "customer")
        with self.store.transaction() as session:
            counts = self.store.footprint(customer_id, session)
            self.store.remove_customer(customer_id, session)
        self._live.stale = True
        return counts
