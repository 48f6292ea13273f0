"""The ad inventory part of the store: ads, their creatives, and the model-face embeddings.

An ad is one ``ads`` row (its validated definition as JSON) and its ``creatives`` rows,
written together in one transaction. A creative's model face is kept only as its
encrypted embedding (``face_ciphertext``) and the sha256 of the photo it came from
(in the creative's spec), so a re-import of the same photo reuses the ciphertext
instead of analysing the photo again. The photo itself is never stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from adlens.ads.inventory import Ad, validate_ad
from adlens.errors import InvalidInputError, NotFoundError, StoreError
from adlens.store.base import StoreBase, changed_rows, check_id, chunks
from adlens.store.models import AdRow, CreativeRow
from adlens.times import utcnow
from adlens.store.products import Upserted, _plain_json

#: One creative to store: (creative id, position, spec, encrypted model-face embedding or None).
CreativeRecord = tuple[str, int, Mapping[str, Any], bytes | None]


def _to_ad(row: AdRow, creatives: Iterable[Mapping[str, Any]]) -> Ad:
    try:
        # moods=None: an ad imported under another emotion-fit table still reads back.
        return validate_ad({**row.spec, "creatives": list(creatives)})
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise StoreError(f"the stored ad {row.id!r} no longer validates ({error}); re-import it") from None


class AdsMixin(StoreBase):
    """Ads and creatives: upsert, read, list, remove, and the model faces decisions compare viewers with."""

    def upsert_ad(
        self, spec: Mapping[str, Any], creatives: Sequence[CreativeRecord], session: Session | None = None
    ) -> Upserted:
        """Insert or replace an ad and its creatives: ``"created"``, ``"updated"`` or ``"unchanged"``.

        ``spec`` is the ad without creatives (:meth:`~adlens.ads.inventory.Ad.spec`). Unchanged
        means the spec and every creative (id, position, spec, ciphertext) are equal, and
        nothing is written; otherwise the creatives are replaced and ``updated_at`` set.
        """
        ad_id = check_id(spec.get("id"), "ad")
        values = {"name": str(spec.get("name") or ""), "spec": _plain_json(dict(spec)),
                  "active": bool(spec.get("active", True))}
        rows = []
        for creative_id, position, creative_spec, token in creatives:
            check_id(creative_id, "creative")
            rows.append({"ad_id": ad_id, "id": creative_id, "position": int(position),
                         "spec": _plain_json(dict(creative_spec)), "face_ciphertext": token})
        if not rows:
            raise InvalidInputError(f"ad {ad_id!r} needs at least one creative")
        if len({r["id"] for r in rows}) != len(rows):
            raise InvalidInputError(f"ad {ad_id!r} has two creatives with the same id")
        now = utcnow()
        with self._session(session) as s:
            self._lock_for_write(s)  # two imports of one new ad must not both insert it
            row = s.get(AdRow, ad_id)
            outcome: Upserted
            if row is None:
                row = AdRow(id=ad_id, created_at=now)
                s.add(row)
                outcome = "created"
            else:
                if all(getattr(row, k) == v for k, v in values.items()) and self._creative_rows(s, ad_id) == rows:
                    return "unchanged"
                s.execute(delete(CreativeRow).where(CreativeRow.ad_id == ad_id))
                outcome = "updated"
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            s.flush()  # the ad row must exist before its creatives reference it
            s.execute(insert(CreativeRow), rows)
            self._changes(s, "ads")
        return outcome

    @staticmethod
    def _creative_rows(s: Session, ad_id: str) -> list[dict[str, Any]]:
        query = (select(CreativeRow.id, CreativeRow.position, CreativeRow.spec, CreativeRow.face_ciphertext)
                 .where(CreativeRow.ad_id == ad_id).order_by(CreativeRow.position, CreativeRow.id))
        return [{"ad_id": ad_id, "id": cid, "position": position, "spec": spec,
                 "face_ciphertext": None if token is None else bytes(token)}
                for cid, position, spec, token in s.execute(query)]

    def _ads(self, s: Session, rows: list[AdRow]) -> list[Ad]:
        specs: dict[str, list[Mapping[str, Any]]] = {row.id: [] for row in rows}
        for part in chunks(list(specs)):
            query = (select(CreativeRow.ad_id, CreativeRow.spec).where(CreativeRow.ad_id.in_(part))
                     .order_by(CreativeRow.ad_id, CreativeRow.position, CreativeRow.id))
            for ad_id, spec in s.execute(query):
                specs[ad_id].append(spec)
        return [_to_ad(row, specs[row.id]) for row in rows]

    def get_ad(self, ad_id: str, session: Session | None = None) -> Ad:
        """The ad ``ad_id`` with its creatives in order; :class:`~adlens.errors.NotFoundError` if unknown."""
        with self._session(session) as s:
            row = s.get(AdRow, ad_id)
            if row is None:
                raise NotFoundError(f"unknown ad {ad_id!r}")
            return self._ads(s, [row])[0]

    def list_ads(self, active_only: bool = False, session: Session | None = None) -> list[Ad]:
        """Every ad (or only the active ones), by id."""
        query = select(AdRow).order_by(AdRow.id)
        if active_only:
            query = query.where(AdRow.active.is_(True))
        with self._session(session) as s:
            return self._ads(s, list(s.scalars(query)))

    def remove_ad(self, ad_id: str, session: Session | None = None) -> None:
        """Delete an ad; its creatives and bandit arm go with it (ON DELETE CASCADE). Events stay."""
        with self._session(session) as s:
            if changed_rows(s, delete(AdRow).where(AdRow.id == ad_id)) == 0:
                raise NotFoundError(f"unknown ad {ad_id!r}")
            self._changes(s, "ads", "arms")  # the arm goes with the ad

    def creative_faces(self, ad_ids: Iterable[str], session: Session | None = None) -> dict[str, dict[str, bytes]]:
        """``{ad_id: {creative_id: ciphertext}}`` for the creatives of ``ad_ids`` that have a model face."""
        found: dict[str, dict[str, bytes]] = {}
        with self._session(session) as s:
            for part in chunks(list(dict.fromkeys(ad_ids))):
                query = (select(CreativeRow.ad_id, CreativeRow.id, CreativeRow.face_ciphertext)
                         .where(CreativeRow.ad_id.in_(part), CreativeRow.face_ciphertext.is_not(None))
                         .order_by(CreativeRow.ad_id, CreativeRow.position, CreativeRow.id))
                for ad_id, creative_id, token in s.execute(query):
                    if token is None:  # left out by the query; this tells the type checker so
                        continue
                    found.setdefault(ad_id, {})[creative_id] = bytes(token)
        return found

    def model_face_tokens(self, session: Session | None = None) -> dict[str, bytes]:
        """``{sha256 of a model-face photo: its ciphertext}`` over all creatives: an import re-embeds no known photo."""
        query = select(CreativeRow.spec, CreativeRow.face_ciphertext).where(CreativeRow.face_ciphertext.is_not(None))
        with self._session(session) as s:
            return {spec["face_sha256"]: bytes(token) for spec, token in s.execute(query)
                    if isinstance(spec, dict) and spec.get("face_sha256")}

    def ads_version(self) -> str:
        """A string that changes whenever an ad is added, updated or removed, by any process (for cache keys).

        One query; :meth:`~adlens.store.base.StoreBase.generation` (``"ads"``) tells this
        process's own changes without one.
        """
        query = select(func.count(), func.max(AdRow.updated_at)).select_from(AdRow)
        with self.transaction() as s:
            count, latest = s.execute(query).one()
        return f"{count}:{latest.isoformat() if latest else '-'}"
