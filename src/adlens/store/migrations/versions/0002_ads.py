"""The consented gallery, the ad inventory, events and the bandit's arms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Written by hand, free of imports from ``adlens.store.models`` (see 0001). Events are
append-only: a trigger refuses every UPDATE of ``events`` on both backends; rows
leave only by erasure of the person they name or by retention.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "events are append-only"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _foreign_key(table: str, column: str, referred: str, referred_column: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.{referred_column}"], name=f"fk_{table}_{column}_{referred}", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create the gallery, ads, creatives, events and bandit_arms tables."""
    op.create_table(
        "gallery_members",
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        _timestamp("consented_at"),
        _timestamp("expires_at", nullable=True),
        _timestamp("enrolled_at"),
        _timestamp("updated_at"),
        _foreign_key("gallery_members", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("customer_id", name="pk_gallery_members"),
    )
    op.create_table(
        "face_embeddings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        _timestamp("created_at"),
        _foreign_key("face_embeddings", "customer_id", "gallery_members", "customer_id"),
        sa.PrimaryKeyConstraint("id", name="pk_face_embeddings"),
    )
    op.create_index("ix_face_embeddings_customer_id", "face_embeddings", ["customer_id"])
    op.create_table(
        "ads",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_ads"),
    )
    op.create_table(
        "creatives",
        sa.Column("ad_id", sa.String(128), nullable=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("face_ciphertext", sa.LargeBinary(), nullable=True),
        _foreign_key("creatives", "ad_id", "ads"),
        sa.PrimaryKeyConstraint("ad_id", "id", name="pk_creatives"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        _timestamp("at"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("screen", sa.String(128), nullable=True),
        sa.Column("decision_id", sa.String(64), nullable=True),
        sa.Column("ad_id", sa.String(128), nullable=True),
        sa.Column("creative_id", sa.String(128), nullable=True),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_kind_at", "events", ["kind", "at"])
    op.create_index("ix_events_decision_id", "events", ["decision_id"])
    op.create_index("ix_events_ad_id_at", "events", ["ad_id", "at"])
    op.create_index("ix_events_customer_id", "events", ["customer_id"])
    op.create_table(
        "bandit_arms",
        sa.Column("ad_id", sa.String(128), nullable=False),
        sa.Column("dims", sa.Integer(), nullable=False),
        sa.Column("a_matrix", sa.LargeBinary(), nullable=False),
        sa.Column("b_vector", sa.LargeBinary(), nullable=False),
        sa.Column("pulls", sa.Integer(), nullable=False),
        sa.Column("reward_sum", sa.Float(), nullable=False),
        _timestamp("updated_at"),
        _foreign_key("bandit_arms", "ad_id", "ads"),
        sa.PrimaryKeyConstraint("ad_id", name="pk_bandit_arms"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION adlens_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE ON events "
            "FOR EACH ROW EXECUTE FUNCTION adlens_events_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE ON events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    """Drop the tables of this revision, dependants first."""
    op.execute("DROP TRIGGER IF EXISTS events_append_only" + (" ON events" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS adlens_events_append_only()")
    op.drop_table("bandit_arms")
    for index in ("ix_events_customer_id", "ix_events_ad_id_at", "ix_events_decision_id", "ix_events_kind_at",
                  "ix_events_at"):
        op.drop_index(index, table_name="events")
    op.drop_table("events")
    op.drop_table("creatives")
    op.drop_table("ads")
    op.drop_index("ix_face_embeddings_customer_id", table_name="face_embeddings")
    op.drop_table("face_embeddings")
    op.drop_table("gallery_members")
