"""The store's tables as SQLAlchemy 2 declarative classes.

The Alembic migrations (``migrations/versions/``) create exactly these tables; a
test compares the two after an upgrade, so a change here needs a new migration. Constraint
names follow :data:`~adlens.store.sqltypes.NAMING_CONVENTION` so they are the same on SQLite
and PostgreSQL and later migrations can refer to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from adlens.store.sqltypes import NAMING_CONVENTION, UTCDateTime
from adlens.times import utcnow


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every row class here maps one Table; SQLAlchemy types ``__table__`` as any FromClause
    # (a class may map a join or subquery), which Core's insert() and ``.c`` columns refuse.
    __table__: ClassVar[Table]


class ProductRow(Base):
    """One catalogue product; its aspects live in :class:`AspectRow`."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    image: Mapped[str | None] = mapped_column(String(1024))
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    # float32 little-endian bytes: 4 KiB per 1,024-d vector instead of a JSON list.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    predicted: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AspectRow(Base):
    """One weighted aspect (concept, colour or token) of a product."""

    __tablename__ = "product_aspects"
    __table_args__ = (Index("ix_product_aspects_kind_name", "kind", "name"),)

    product_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)


class SegmentRow(Base):
    """A group of customers with similar taste, as the last clustering found it."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(Integer)
    top_aspects: Mapped[list[Any]] = mapped_column(JSON, default=list)
    centroid: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerRow(Base):
    """A customer and their taste profile (a sparse aspect vector)."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    profile: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_count: Mapped[int] = mapped_column(Integer, default=0)
    segment_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("segments.id", ondelete="SET NULL")
    )


class FeedbackRow(Base):
    """One like (+1) or dislike (-1) of a customer for a product."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("value IN (1, -1)", name="value"),
        Index("ix_feedback_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_feedback_product_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.id", ondelete="CASCADE")
    )
    product_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("products.id", ondelete="CASCADE")
    )
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the consented gallery (issue 5) ------------------------------------------------


class GalleryMemberRow(Base):
    """A customer enrolled for recognition, with the consent they gave."""

    __tablename__ = "gallery_members"

    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaceEmbeddingRow(Base):
    """One face embedding of an enrolled member, encrypted (never a raw image)."""

    __tablename__ = "face_embeddings"
    __table_args__ = (Index("ix_face_embeddings_customer_id", "customer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("gallery_members.customer_id", ondelete="CASCADE")
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GalleryChangeRow(Base):
    """One embedding added, refreshed or removed, in commit order: what a cached index applies (no person named)."""

    __tablename__ = "gallery_changes"
    __table_args__ = {"sqlite_autoincrement": True}  # never reuse a sequence number, even the last one's

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    embedding_id: Mapped[int] = mapped_column(Integer)


class MediaFolderRow(Base):
    """A folder a local import took photos from: the server may send files directly in it."""

    __tablename__ = "media_folders"

    path: Mapped[str] = mapped_column(String(1024), primary_key=True)


# --- the ad inventory ----------------------------------------------------------------


class AdRow(Base):
    """An ad: its validated definition (targeting, exclusions, caps) as imported."""

    __tablename__ = "ads"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreativeRow(Base):
    """One creative of an ad; ``face_ciphertext`` is its model face's encrypted embedding."""

    __tablename__ = "creatives"

    ad_id: Mapped[str] = mapped_column(String(128), ForeignKey("ads.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    face_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)


# --- events and learning -------------------------------------------------------------


class EventRow(Base):
    """One append-only event: a decision, an ad play, a reward.

    ``customer_id`` is set only in members mode, for an identified member, so erasure
    can find every event that names the person; ``data`` holds aggregate audience
    numbers, never an image or an embedding. ``reward_kind`` is set on rewards only
    (dwell, click, purchase): a unique index lets a decision take one reward of each
    kind, whatever number of processes try at once (NULLs, on every other event, never clash).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_at", "at"),
        Index("ix_events_kind_at", "kind", "at"),
        Index("ix_events_decision_id", "decision_id"),
        Index("ix_events_ad_id_at", "ad_id", "at"),
        Index("ix_events_customer_id", "customer_id"),
        Index("uq_events_decision_id_reward_kind", "decision_id", "reward_kind", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    screen: Mapped[str | None] = mapped_column(String(128))
    decision_id: Mapped[str | None] = mapped_column(String(64))
    ad_id: Mapped[str | None] = mapped_column(String(128))
    creative_id: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(128))
    value: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reward_kind: Mapped[str | None] = mapped_column(String(32))


class BanditArmRow(Base):
    """The sufficient statistics of one ad's linear bandit arm (LinUCB's A and b)."""

    __tablename__ = "bandit_arms"

    ad_id: Mapped[str] = mapped_column(String(128), ForeignKey("ads.id", ondelete="CASCADE"), primary_key=True)
    dims: Mapped[int] = mapped_column(Integer)
    # float64 little-endian bytes: A is dims × dims, b is dims.
    a_matrix: Mapped[bytes] = mapped_column(LargeBinary)
    b_vector: Mapped[bytes] = mapped_column(LargeBinary)
    pulls: Mapped[int] = mapped_column(Integer, default=0)
    reward_sum: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the secret is kept, with the key's role."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("role IN ('admin', 'screen', 'analyst')", name="role"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- uplift modelling ----------------------------------------------------------------


class UpliftCampaignRow(Base):
    """A named set of predicted uplifts (one scoring run of an uplift model) and its figures.

    ``customers``, ``mean_uplift`` and ``positive`` (how many have an uplift above 0)
    describe the scores in :class:`UpliftScoreRow`; erasing a customer adjusts them.
    """

    __tablename__ = "uplift_campaigns"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    model: Mapped[str] = mapped_column(String(512), default="")
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    mean_uplift: Mapped[float | None] = mapped_column(Float)
    positive: Mapped[int] = mapped_column(Integer, default=0)


class UpliftScoreRow(Base):
    """One customer's predicted uplift under a campaign (treated minus untreated outcome probability)."""

    __tablename__ = "uplift_scores"
    __table_args__ = (Index("ix_uplift_scores_customer_id", "customer_id"),)

    campaign: Mapped[str] = mapped_column(
        String(128), ForeignKey("uplift_campaigns.name", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    uplift: Mapped[float] = mapped_column(Float)
