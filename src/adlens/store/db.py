"""The :class:`Store` and :func:`open_store`: one database, migrated by Alembic.

SQLite (a file under ``ADLENS_DATA_DIR``) is the default; any SQLAlchemy URL works,
and PostgreSQL (``postgresql+psycopg://…``) is tested for real. The repository methods
live in mixins by subject (:mod:`.products`, :mod:`.customers`, :mod:`.segments`,
:mod:`.uplift`…); each opens its own transaction unless given a ``session``, so a caller
can group several writes into one :meth:`Store.transaction`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError

from adlens.errors import StoreError
from adlens.store.ads import AdsMixin
from adlens.store.bandit import BanditMixin
from adlens.store.base import mask
from adlens.store.customers import CustomersMixin
from adlens.store.events import EventsMixin
from adlens.store.gallery import GalleryMixin
from adlens.store.keys import KeysMixin
from adlens.store.products import ProductsMixin
from adlens.store.segments import SegmentsMixin
from adlens.store.uplift import UpliftMixin
from adlens.store.uplift_queries import UpliftQueriesMixin

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Any constant works: it only has to be the same in every adlens process.
_MIGRATION_LOCK = 0x61646C656E73


class Store(ProductsMixin, CustomersMixin, SegmentsMixin, EventsMixin, BanditMixin, AdsMixin, GalleryMixin,
            KeysMixin, UpliftMixin, UpliftQueriesMixin):
    """The store: catalogue, customers, feedback, segments, gallery, ads, events, arms, API keys, uplift: one database.

    ``Store(url)`` only builds the engine; :func:`open_store` returns one migrated to
    the schema this code expects. ``url`` defaults to ``get_settings().store_url``.
    """

    def alembic_config(self) -> Config:
        """Alembic's configuration for this store, built in code (no ``alembic.ini``)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        # ConfigParser interpolates "%": a URL-encoded search_path would break it.
        url = self.url.render_as_string(hide_password=False).replace("%", "%%")
        config.set_main_option("sqlalchemy.url", url)
        return config

    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` before the first migration)."""
        try:
            with self.engine.connect() as connection:
                heads = MigrationContext.configure(connection).get_current_heads()
        except DBAPIError as error:
            raise self._unavailable(error) from error
        return heads[0] if heads else None

    def migrate(self) -> None:
        """Upgrade the database to the newest schema this code knows (``alembic upgrade head``).

        Idempotent, and done in one transaction where the backend allows (PostgreSQL).
        Raises :class:`~adlens.errors.StoreError` when the database cannot be reached or
        is at a revision newer than this adlens knows (a newer adlens migrated it:
        upgrade adlens rather than lose data).
        """
        config = self.alembic_config()
        script = ScriptDirectory.from_config(config)
        known = {revision.revision for revision in script.walk_revisions()}
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # Two processes starting at once must not both create the tables.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                current = MigrationContext.configure(connection).get_current_heads()
                unknown = sorted(set(current) - known)
                if unknown:
                    raise StoreError(
                        f"the store at {mask(self.url)} is at schema revision {', '.join(unknown)}, "
                        f"newer than this adlens knows ({script.get_current_head()}); upgrade adlens"
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except DBAPIError as error:
            raise self._unavailable(error) from error
        except CommandError as error:
            raise StoreError(f"cannot migrate the store at {mask(self.url)}: {error}") from error


def _ensure_sqlite_folder(url: URL) -> None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):  # a URI filename: SQLite resolves it
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder of the store at {mask(url)}: {error}") from error


def open_store(url: str | URL | None = None) -> Store:
    """A migrated, ready :class:`Store` at ``url`` (default: ``get_settings().store_url``).

    Creates the SQLite file's folder when needed, then runs :meth:`Store.migrate`.
    Raises :class:`~adlens.errors.StoreError` when the database is unreachable or its
    schema is newer than this code.
    """
    store = Store(url)
    _ensure_sqlite_folder(store.url)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
