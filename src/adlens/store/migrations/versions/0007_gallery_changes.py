"""The gallery change log: which embeddings each enrolment or erasure touched, in commit order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Written by hand, free of imports from ``adlens.store.models`` (see 0001). A cached
gallery index applies the embeddings changed since the sequence number it holds instead
of rebuilding (issue 18). Rows name embedding ids only, never a customer, so an erasure
leaves no personal trace here. Galleries enrolled before this revision have no log
rows: an index is loaded from the whole table once, and follows the log from then on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create gallery_changes (AUTOINCREMENT on SQLite: a sequence number is never reused)."""
    op.create_table(
        "gallery_changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("embedding_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_gallery_changes"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop gallery_changes."""
    op.drop_table("gallery_changes")
