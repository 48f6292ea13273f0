"""One reward of each kind per decision, enforced by the database.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

Written by hand, free of imports from ``adlens.store.models`` (see 0001). Rewards were
checked for duplicates before being inserted, which concurrent requests raced past.
``events`` gains ``reward_kind`` (the ``kind`` of a reward's data: dwell, click,
purchase; NULL on every other event) and a unique index on (decision_id, reward_kind).

Existing rows: every reward's ``reward_kind`` is filled from its data; where a decision
already holds several rewards of one kind, the first (lowest id) is kept and the later
ones are deleted, as the unique index requires. The bandit arms those duplicates were
folded into are left as they are (their statistics cannot be unfolded); reports read
the events, so they count each reward once from now on. Events are append-only, so the
trigger refusing updates is dropped for the fill and created again at once, in the same
transaction on PostgreSQL. A downgrade drops the column and index; deleted duplicates
do not come back.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "events are append-only"
INDEX = "uq_events_decision_id_reward_kind"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_trigger() -> None:
    op.execute("DROP TRIGGER IF EXISTS events_append_only" + (" ON events" if _postgresql() else ""))


def _create_trigger() -> None:
    # As in 0002; the PostgreSQL function it calls stays in place.
    if _postgresql():
        op.execute("CREATE TRIGGER events_append_only BEFORE UPDATE ON events "
                   "FOR EACH ROW EXECUTE FUNCTION adlens_events_append_only()")
    else:
        op.execute("CREATE TRIGGER events_append_only BEFORE UPDATE ON events "
                   f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")


def upgrade() -> None:
    """Add events.reward_kind, fill it for rewards, drop later duplicates, index it uniquely."""
    op.add_column("events", sa.Column("reward_kind", sa.String(32), nullable=True))
    kind = "data->>'kind'" if _postgresql() else "json_extract(data, '$.kind')"
    _drop_trigger()
    op.execute(f"UPDATE events SET reward_kind = substr({kind}, 1, 32) "
               "WHERE kind = 'reward' AND decision_id IS NOT NULL")
    _create_trigger()
    op.execute(
        "DELETE FROM events WHERE reward_kind IS NOT NULL AND id NOT IN ("
        "SELECT min(id) FROM events WHERE reward_kind IS NOT NULL GROUP BY decision_id, reward_kind)"
    )
    op.create_index(INDEX, "events", ["decision_id", "reward_kind"], unique=True)


def downgrade() -> None:
    """Drop the unique index and the column (SQLite 3.35+ drops a column in place, keeping the trigger)."""
    op.drop_index(INDEX, table_name="events")
    if _postgresql():
        op.drop_column("events", "reward_kind")
    else:
        op.execute("ALTER TABLE events DROP COLUMN reward_kind")
