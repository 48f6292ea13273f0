"""Bulk inserts, on SQLite and PostgreSQL: customers registered once, scores as given."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from adlens.store import Store
from adlens.store.bulk import insert_customers, insert_scores
from adlens.store.models import CustomerRow, UpliftCampaignRow, UpliftScoreRow


def test_insert_customers_registers_only_the_unknown(store: Store) -> None:
    store.add_customer("known")
    with store.transaction() as session:
        insert_customers(session.connection(), ["known", "new1", "new2"])
    assert store.customer_ids() == {"known", "new1", "new2"}
    with store.transaction() as session:
        fresh = session.get(CustomerRow, "new1")
        assert fresh is not None and fresh.profile == {} and fresh.feedback_count == 0
        assert fresh.created_at.tzinfo is not None


@pytest.mark.parametrize("ids", [[], ["a"], ["a", "b", "c"]])
def test_insert_scores_as_given(store: Store, ids: list[str]) -> None:
    values = [0.5 - i for i in range(len(ids))]
    with store.transaction() as session:
        connection = session.connection()
        connection.execute(insert(UpliftCampaignRow.__table__).values(name="spring"))
        insert_customers(connection, ids)
        insert_scores(connection, "spring", ids, values)
    with store.transaction() as session:
        rows = session.execute(select(UpliftScoreRow.customer_id, UpliftScoreRow.uplift)
                               .order_by(UpliftScoreRow.customer_id)).all()
    assert [tuple(r) for r in rows] == list(zip(ids, values))
