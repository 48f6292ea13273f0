"""The catalogue part of the store: products, their aspect rows and embeddings.

A product is written in one transaction together with its aspects, so an import
interrupted half-way never leaves a product without them. Bulk readers
(:meth:`ProductsMixin.aspect_rows`, :meth:`ProductsMixin.embeddings`) use one query
each and return ids sorted in Python, so the order is the same on every backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError, NotFoundError, StoreError
from adlens.products.types import Aspects, Prediction, Product, split_key
from adlens.store.base import StoreBase, changed_rows, check_id, chunks
from adlens.store.models import AspectRow, MediaFolderRow, ProductRow
from adlens.times import utcnow

Upserted = Literal["created", "updated", "unchanged"]

# Column widths of the products and product_aspects tables (PostgreSQL enforces them,
# SQLite does not: checking here gives the same error on both).
_LIMITS = {"name": 512, "image": 1024, "image_sha256": 64, "aspect": 256}


def encode_embedding(embedding: np.ndarray | None) -> bytes | None:
    """The float32 little-endian bytes stored for ``embedding``."""
    if embedding is None:
        return None
    return np.asarray(embedding, dtype="<f4").reshape(-1).tobytes()


def decode_embedding(data: bytes | None) -> np.ndarray | None:
    """The float32 vector back from :func:`encode_embedding`'s bytes."""
    if data is None:
        return None
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def _plain_json(value: Any) -> Any:
    # What the JSON column will give back (tuples → lists, keys → str), so that
    # comparing with a stored value is fair.
    try:
        # NaN is not JSON: PostgreSQL refuses it, SQLite would store it.
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"not storable as JSON: {error}") from error


def _predicted_json(predicted: dict[str, Prediction]) -> dict[str, dict[str, Any]]:
    return {
        column: {"value": p.value, "confidence": float(p.confidence)} for column, p in predicted.items()
    }


def _check_product(product: Product) -> None:
    check_id(product.id, "product")
    for field in ("name", "image", "image_sha256"):
        value = getattr(product, field)
        if value is not None and len(value) > _LIMITS[field]:
            raise InvalidInputError(f"product {product.id!r}: {field} is longer than {_LIMITS[field]}")


def _aspect_rows(product_id: str, vector: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for key, weight in vector.items():
        kind, name = split_key(key)
        if len(name) > _LIMITS["aspect"]:
            raise InvalidInputError(f"product {product_id!r}: aspect {name[:40]!r}… is too long")
        rows.append({"product_id": product_id, "kind": kind, "name": name, "weight": float(weight)})
    return rows


def _matching(query: Any, search: str | None) -> Any:
    """``query`` kept to products whose id or name contains ``search`` (any case), when given."""
    if not search:
        return query
    if "\x00" in search:  # SQLite's LIKE stops at a NUL (matching everything); PostgreSQL refuses it
        raise InvalidInputError("a search must not contain a NUL character")
    return query.where(or_(ProductRow.id.icontains(search, autoescape=True),
                           ProductRow.name.icontains(search, autoescape=True)))


def _to_product(row: ProductRow, vector: dict[str, float]) -> Product:
    return Product(
        id=row.id,
        name=row.name,
        attributes=dict(row.attributes or {}),
        image=row.image,
        image_sha256=row.image_sha256,
        aspects=Aspects.from_vector(vector, decode_embedding(row.embedding)),
        predicted={
            column: Prediction(str(p["value"]), float(p["confidence"])) for column, p in (row.predicted or {}).items()
        },
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ProductsMixin(StoreBase):
    """Products: upsert, read, list, remove, and the bulk views the recommender needs."""

    def _vectors(self, session: Session, ids: Sequence[str]) -> dict[str, dict[str, float]]:
        vectors: dict[str, dict[str, float]] = {pid: {} for pid in ids}
        columns = (AspectRow.product_id, AspectRow.kind, AspectRow.name, AspectRow.weight)
        for part in chunks(list(vectors)):
            query = select(*columns).where(AspectRow.product_id.in_(part))
            for pid, kind, name, weight in session.execute(query):
                vectors[pid][f"{kind}:{name}"] = weight
        return vectors

    def upsert_product(self, product: Product, session: Session | None = None) -> Upserted:
        """Insert or update ``product`` with its aspects: ``"created"``, ``"updated"`` or ``"unchanged"``.

        Unchanged means every stored field (name, attributes, image, image_sha256,
        embedding, aspects, predicted) is equal, and nothing is written. On update the
        aspect rows are replaced, ``created_at`` is kept and ``updated_at`` set to now.
        """
        _check_product(product)
        vector = product.aspects.vector()
        aspect_rows = _aspect_rows(product.id, vector)
        values = {
            "name": product.name or "",
            "attributes": _plain_json(product.attributes),
            "image": product.image,
            "image_sha256": product.image_sha256,
            "embedding": encode_embedding(product.aspects.embedding),
            "predicted": _plain_json(_predicted_json(product.predicted)),
        }
        now = utcnow()
        with self._session(session) as s:
            self._lock_for_write(s)  # two imports of one new product must not both insert it
            row = s.get(ProductRow, product.id)
            outcome: Upserted
            if row is None:
                row = ProductRow(id=product.id, created_at=product.created_at or now)
                s.add(row)
                outcome = "created"
            elif all(getattr(row, k) == v for k, v in values.items()) and self._vectors(s, [row.id])[row.id] == vector:
                return "unchanged"
            else:
                s.execute(delete(AspectRow).where(AspectRow.product_id == product.id))
                outcome = "updated"
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            s.flush()  # the product row must exist before its aspects reference it
            if aspect_rows:
                s.execute(insert(AspectRow), aspect_rows)
        return outcome

    def get_product(self, product_id: str, session: Session | None = None) -> Product:
        """The product ``product_id`` with its aspects; :class:`~adlens.errors.NotFoundError` if unknown."""
        return self.get_products([product_id], session)[0]

    def get_products(self, ids: Iterable[str], session: Session | None = None) -> list[Product]:
        """The products ``ids`` in the order given; :class:`~adlens.errors.NotFoundError` names unknown ones."""
        ids = list(ids)
        with self._session(session) as s:
            rows: dict[str, ProductRow] = {}
            for part in chunks(list(dict.fromkeys(ids))):
                rows.update((r.id, r) for r in s.scalars(select(ProductRow).where(ProductRow.id.in_(part))))
            missing = [pid for pid in dict.fromkeys(ids) if pid not in rows]
            if missing:
                noun = "product" if len(missing) == 1 else "products"
                raise NotFoundError(f"unknown {noun} " + ", ".join(f"{m!r}" for m in missing[:10]))
            vectors = self._vectors(s, list(rows))
            return [_to_product(rows[pid], vectors[pid]) for pid in ids]

    def has_products(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that are in the catalogue."""
        found: set[str] = set()
        with self.transaction() as s:
            for part in chunks(list(set(ids))):
                found.update(s.scalars(select(ProductRow.id).where(ProductRow.id.in_(part))))
        return found

    def list_products(self, offset: int = 0, limit: int = 50, search: str | None = None) -> list[Product]:
        """One page of products by id; ``search`` keeps those whose id or name contains it (any case)."""
        if offset < 0 or limit < 1:
            raise InvalidInputError(f"offset must be >= 0 and limit >= 1, not {offset} and {limit}")
        query = _matching(select(ProductRow).order_by(ProductRow.id).offset(offset).limit(limit), search)
        with self.transaction() as s:
            rows = list(s.scalars(query))
            vectors = self._vectors(s, [r.id for r in rows])
            return [_to_product(r, vectors[r.id]) for r in rows]

    def count_products(self, search: str | None = None) -> int:
        """How many products the catalogue holds (whose id or name contains ``search``, when given)."""
        with self.transaction() as s:
            return s.scalar(_matching(select(func.count()).select_from(ProductRow), search)) or 0

    def remove_product(self, product_id: str, session: Session | None = None) -> None:
        """Delete a product; its aspects and all feedback about it go with it (ON DELETE CASCADE)."""
        with self._session(session) as s:
            if changed_rows(s, delete(ProductRow).where(ProductRow.id == product_id)) == 0:
                raise NotFoundError(f"unknown product {product_id!r}")

    def product_image_hashes(self) -> dict[str, str | None]:
        """Each product's photo sha256 (``None`` without one), to skip re-extraction on re-import."""
        with self.transaction() as s:
            return {pid: sha for pid, sha in s.execute(select(ProductRow.id, ProductRow.image_sha256))}

    def product_images(self) -> set[str]:
        """The photo path of every product that has one."""
        with self.transaction() as s:
            return set(s.scalars(select(ProductRow.image).where(ProductRow.image.is_not(None))))

    def add_media_folders(self, folders: Iterable[str], session: Session | None = None) -> None:
        """Record folders a local import took photos (or creatives) from, so the server may send their files."""
        wanted = {f for f in folders if f and len(f) <= _LIMITS["image"]}
        if not wanted:
            return
        with self._session(session) as s:
            known = set(s.scalars(select(MediaFolderRow.path).where(MediaFolderRow.path.in_(wanted))))
            dialect = s.get_bind().dialect.name
            for folder in sorted(wanted - known):
                if dialect in ("sqlite", "postgresql"):
                    # Two imports recording the same new folder at once must not fail on the key.
                    statement = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(MediaFolderRow)
                    s.execute(statement.values(path=folder).on_conflict_do_nothing(index_elements=["path"]))
                else:
                    s.add(MediaFolderRow(path=folder))

    def media_folders(self) -> set[str]:
        """The folders recorded by :meth:`add_media_folders`."""
        with self.transaction() as s:
            return set(s.scalars(select(MediaFolderRow.path)))

    def aspect_rows(self) -> tuple[list[str], list[dict[str, float]]]:
        """All product ids, sorted, and their sparse aspect vectors (``{"kind:name": weight}``).

        One query over ``products`` outer-joined to ``product_aspects``; a product
        without aspects gets an empty vector.
        """
        query = select(ProductRow.id, AspectRow.kind, AspectRow.name, AspectRow.weight).outerjoin(
            AspectRow, AspectRow.product_id == ProductRow.id
        )
        vectors: dict[str, dict[str, float]] = {}
        with self.transaction() as s:
            # Core rows, not ORM ones: this loop sees millions of rows for a big catalogue.
            for pid, kind, name, weight in s.connection().execute(query):
                vector = vectors.setdefault(pid, {})
                if kind is not None:
                    vector[f"{kind}:{name}"] = weight
        ids = sorted(vectors)
        return ids, [vectors[pid] for pid in ids]

    def embeddings(self) -> tuple[list[str], np.ndarray]:
        """The ids (sorted) of products with an embedding, and those embeddings as float32 ``(n, d)``."""
        query = select(ProductRow.id, ProductRow.embedding).where(ProductRow.embedding.is_not(None))
        with self.transaction() as s:
            # The query leaves NULLs out; the test on ``data`` only tells the type checker so.
            found = sorted((pid, data) for pid, data in s.execute(query) if data is not None)
        if not found:
            return [], np.empty((0, 0), dtype=np.float32)
        sizes = {len(data) for _, data in found}
        if len(sizes) > 1:
            raise StoreError("product embeddings have different sizes: re-import the catalogue")
        matrix = np.frombuffer(b"".join(data for _, data in found), dtype="<f4").astype(np.float32)
        return [pid for pid, _ in found], matrix.reshape(len(found), -1)

    def catalogue_version(self) -> str:
        """A string that changes whenever products are added, updated or removed (for cache keys)."""
        query = select(func.count(), func.max(ProductRow.updated_at)).select_from(ProductRow)
        with self.transaction() as s:
            count, latest = s.execute(query).one()
        return f"{count}:{latest.isoformat() if latest else '-'}"
