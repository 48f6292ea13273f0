"""Products, their aspects, customers, feedback and segments.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand and kept free of imports from ``adlens.store.models`` so it keeps
describing this revision when the models move on; ``tests/store/test_migrations.py``
checks that an upgraded database matches the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _foreign_key(table: str, column: str, referred: str, ondelete: str) -> sa.ForeignKeyConstraint:
    # Named as the models' naming convention names it, so later migrations can drop it.
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}", ondelete=ondelete
    )


def upgrade() -> None:
    """Create the five tables of the product store."""
    op.create_table(
        "products",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("image", sa.String(1024), nullable=True),
        sa.Column("image_sha256", sa.String(64), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("predicted", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
    )
    op.create_table(
        "product_aspects",
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        _foreign_key("product_aspects", "product_id", "products", "CASCADE"),
        sa.PrimaryKeyConstraint("product_id", "kind", "name", name="pk_product_aspects"),
    )
    op.create_index("ix_product_aspects_kind_name", "product_aspects", ["kind", "name"])
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(256), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("top_aspects", sa.JSON(), nullable=False),
        sa.Column("centroid", sa.JSON(), nullable=False),
        sa.Column("x", sa.Float(), nullable=True),
        sa.Column("y", sa.Float(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(128), nullable=False),
        _timestamp("created_at"),
        sa.Column("profile", sa.JSON(), nullable=False),
        _timestamp("profile_updated_at", nullable=True),
        sa.Column("feedback_count", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        _foreign_key("customers", "segment_id", "segments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("value IN (1, -1)", name="ck_feedback_value"),
        _foreign_key("feedback", "customer_id", "customers", "CASCADE"),
        _foreign_key("feedback", "product_id", "products", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index(
        "ix_feedback_customer_id_created_at", "feedback", ["customer_id", "created_at"]
    )
    op.create_index("ix_feedback_product_id", "feedback", ["product_id"])


def downgrade() -> None:
    """Drop the five tables, dependants first."""
    op.drop_index("ix_feedback_product_id", table_name="feedback")
    op.drop_index("ix_feedback_customer_id_created_at", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("customers")
    op.drop_table("segments")
    op.drop_index("ix_product_aspects_kind_name", table_name="product_aspects")
    op.drop_table("product_aspects")
    op.drop_table("products")
