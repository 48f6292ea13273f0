"""The product store: catalogue, customers, feedback and segments (SQLAlchemy + Alembic).

``open_store()`` returns a migrated :class:`Store` at ``ADLENS_DATABASE_URL`` or, by
default, a SQLite file under ``ADLENS_DATA_DIR``. Importing this package opens nothing,
and imports SQLAlchemy only when one of its names is first used: the CLI imports light
parts of it (:mod:`adlens.store.roles`) at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adlens.lazy import lazy_attributes

if TYPE_CHECKING:
    from adlens.store.customers import Customer
    from adlens.store.db import Store, open_store
    from adlens.store.segments import Segment

__getattr__ = lazy_attributes(__name__, {"Customer": ".customers", "Store": ".db", "open_store": ".db",
                                         "Segment": ".segments"})

__all__ = ["Customer", "Segment", "Store", "open_store"]
