"""Predicted uplift per customer, under named campaigns (uplift modelling).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

Written by hand, free of imports from ``adlens.store.models`` (see 0001). A campaign's
scores go with the campaign, and a customer's with the customer (ON DELETE CASCADE;
erasure deletes them explicitly too).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the uplift_campaigns and uplift_scores tables."""
    op.create_table(
        "uplift_campaigns",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("mean_uplift", sa.Float(), nullable=True),
        sa.Column("positive", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_uplift_campaigns"),
    )
    op.create_table(
        "uplift_scores",
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("uplift", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["campaign"], ["uplift_campaigns.name"],
                                name="fk_uplift_scores_campaign_uplift_campaigns", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_uplift_scores_customer_id_customers", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign", "customer_id", name="pk_uplift_scores"),
    )
    op.create_index("ix_uplift_scores_customer_id", "uplift_scores", ["customer_id"])


def downgrade() -> None:
    """Drop the uplift tables."""
    op.drop_index("ix_uplift_scores_customer_id", table_name="uplift_scores")
    op.drop_table("uplift_scores")
    op.drop_table("uplift_campaigns")
