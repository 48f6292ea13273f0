"""The product store: catalogue, customers, feedback and segments (SQLAlchemy + Alembic).

``open_store()`` returns a migrated :class:`Store` at ``ADLENS_DATABASE_URL`` or, by
default, a SQLite file under ``ADLENS_DATA_DIR``. Importing this package opens nothing.
"""

from __future__ import annotations

from adlens.store.customers import Customer
from adlens.store.db import Store, open_store
from adlens.store.segments import Segment

__all__ = ["Customer", "Segment", "Store", "open_store"]
