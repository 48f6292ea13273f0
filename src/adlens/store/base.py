"""The engine and transaction handling every part of the :class:`~adlens.store.Store` shares.

The repository mixins (:mod:`.products`, :mod:`.customers`, :mod:`.segments`) derive
from :class:`StoreBase` so each method can run in the caller's session or open its own
transaction through :meth:`StoreBase._session`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self, TypeVar, cast

from sqlalchemy import URL, Connection, CursorResult, Delete, Engine, Update, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adlens.errors import InvalidInputError, StoreError
from adlens.settings import get_settings

T = TypeVar("T")

#: Seconds a PostgreSQL connection attempt may take before the store gives up.
CONNECT_TIMEOUT = 10

#: Where a session notes what its transaction changes, for :meth:`StoreBase.generation`.
_CHANGED = "adlens.changed"

#: Every topic a generation is kept for (what :meth:`StoreBase.moved` moves by default).
TOPICS = ("ads", "arms", "gallery", "segments", "uplift", "keys")


def mask(url: URL) -> str:
    """``url`` as text with its password replaced by ``***``."""
    return url.render_as_string(hide_password=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (so ON DELETE CASCADE) unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Write-ahead logging lets the API read while an import writes; with it,
    # synchronous=NORMAL is crash-safe and saves an fsync per transaction.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: URL) -> Engine:
    """An engine for ``url``: SQLite with foreign keys on and WAL, PostgreSQL with a connect timeout."""
    options: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        options["pool_pre_ping"] = True
        if "connect_timeout" not in url.query:
            options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def check_id(value: object, what: str, max_length: int = 128) -> str:
    """``value`` when it is a usable id of a ``what``, else :class:`~adlens.errors.InvalidInputError`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"a {what} id must be a non-empty string, not {value!r}")
    if len(value) > max_length:
        raise InvalidInputError(f"{what} id {value[:40]!r}… is longer than {max_length} characters")
    return value


def chunks(items: Sequence[T], size: int = 5000) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size``: an IN list must stay under the drivers' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def changed_rows(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE and return how many rows it matched.

    ``Session.execute`` returns a :class:`~sqlalchemy.CursorResult` for these, but is typed
    as returning a plain ``Result``, which has no ``rowcount``.
    """
    return cast(CursorResult[Any], session.execute(statement)).rowcount or 0


class StoreBase:
    """One engine, its session factory, and the transaction boundary.

    ``url`` defaults to ``get_settings().store_url``. Building a store connects to
    nothing and creates nothing on disk; the first query does.
    """

    def __init__(self, url: str | URL | None = None) -> None:
        try:
            self.url = make_url(url or get_settings().store_url)
            self.engine = make_engine(self.url)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as error:
            raise StoreError(f"invalid store URL: {error}") from error
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # A fresh token per commit, never reused: a cache that compares tokens for
        # equality sees every change even when two threads' commits bump out of order.
        self._tokens = itertools.count(1)
        self._generations: dict[str, int] = {}
        #: Called with the topics of each commit that changed some (the fleet's bus publishes them).
        self.on_change: Callable[[frozenset[str]], None] | None = None
        event.listen(self._sessions, "after_commit", self._committed)
        event.listen(self._sessions, "after_rollback", self._rolled_back)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({mask(self.url)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection (the store still works afterwards, reconnecting)."""
        self.engine.dispose()

    def _unavailable(self, error: Exception) -> StoreError:
        if self.engine.dialect.name == "sqlite":
            hint = "is the file readable and writable, and not locked by another process?"
        else:
            hint = "is the database server running, and ADLENS_DATABASE_URL right?"
        reason = str(getattr(error, "orig", None) or error).strip()
        return StoreError(f"cannot use the store at {mask(self.url)}: {reason} ({hint})")

    def generation(self, topic: str) -> int:
        """A token that changes each time this store object commits a change to ``topic`` (``"ads"``, ``"arms"``).

        In-process caches (the :class:`~adlens.decision.Decider`'s inventory and bandit
        arms) compare it to see their own process's writes at once, without a query;
        writes by other processes they find by re-reading now and then, or at once
        when a fleet's bus (:mod:`adlens.fleet.bus`) calls :meth:`moved`.
        """
        return self._generations.get(topic, 0)

    def moved(self, topics: Iterable[str] = TOPICS) -> None:
        """Move the generations of ``topics`` (default: all), as if this store had committed changes to them:
        how a change committed by another process is made to count here at once."""
        for topic in topics:
            self._generations[topic] = next(self._tokens)

    @staticmethod
    def _changes(session: Session, *topics: str) -> None:
        """Note that ``session``'s transaction changes ``topics``: their generations move once it commits."""
        session.info.setdefault(_CHANGED, set()).update(topics)

    def _committed(self, session: Session) -> None:
        topics = frozenset(session.info.pop(_CHANGED, ()))
        if topics:
            self.moved(topics)
            if self.on_change is not None:
                self.on_change(topics)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        session.info.pop(_CHANGED, None)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception.

        Errors meaning the store is unusable (connection refused or lost, file locked or
        unreadable) surface as :class:`~adlens.errors.StoreError`; constraint violations
        and the caller's own exceptions pass through unchanged.
        """
        with self._unusable_as_store_error(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def _unusable_as_store_error(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            raise self._unavailable(error) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise self._unavailable(error) from error
            raise

    @contextmanager
    def _session(self, session: Session | None) -> Iterator[Session]:
        """The caller's session as is (the caller commits), or a fresh :meth:`transaction`."""
        if session is not None:
            yield session
            return
        with self.transaction() as own:
            yield own

    @staticmethod
    def _lock_for_write(session: Session) -> None:
        """Make ``session``'s transaction hold the database's write lock before it reads what it will rewrite.

        PostgreSQL locks rows (``SELECT … FOR UPDATE``); SQLite has no row locks, and
        pysqlite starts its transaction only at the first write, so a profile read before
        that is read outside it and two writers fold into the same old value. Taking the
        write lock up front (``BEGIN IMMEDIATE``; other writers wait their turn, readers
        do not) makes the read-modify-write atomic. A transaction that has written already
        holds the lock.
        """
        connection = session.connection()
        if connection.dialect.name != "sqlite":
            return
        raw = connection.connection.driver_connection
        if not getattr(raw, "in_transaction", True):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @contextmanager
    def _connection(self, session: Session | None) -> Iterator[Connection]:
        """The caller's session's connection (the caller commits), or a fresh transaction without a session.

        For hot paths of plain Core statements: an ORM session and its unit of work cost
        more than the statement itself. Errors map as in :meth:`transaction`.
        """
        if session is not None:
            yield session.connection()
            return
        with self._unusable_as_store_error(), self.engine.begin() as connection:
            yield connection
