"""The embedded read-model store: the read models in the event store's own SQLite file.

Layout, beside the ``events`` table:

* one table per version of a projection, ``{projection}__v{n}`` (n = 1, 2, … and never
  reused), with columns ``key``, ``position`` (of the last event folded into the
  document) and ``body`` (the document's compact JSON), and one column per field the
  projection declares it is queried by, with the indexes it declares (see
  :mod:`projections.adapters.sqlite_tables`);
* ``read_model_versions`` and ``read_model_sequences``: every version that exists,
  which one is active and its checkpoint, and the last version number handed out per
  projection, so a dropped version's name never comes back (see
  :mod:`projections.adapters.sqlite_versions`); ``read_model_batches``: the claimed
  batches (:mod:`projections.adapters.sqlite_batches`); ``read_model_unwritable``: the
  keys whose documents could not be written
  (:mod:`projections.adapters.sqlite_unwritable`); ``read_model_workers``: what each
  following worker last reported (:mod:`projections.adapters.sqlite_workers`);
* a view named like each projection (``sessions``, ``repo_configs``, ``jobs_history``)
  over its active version, for anyone who reads the file directly. The queries of this
  store read it too, so a switch can never leave them reading a dropped table.

Every write runs in one ``BEGIN IMMEDIATE`` transaction (SQLite's single write lock), and
SQLite's DDL is transactional: :meth:`SQLiteReadModelStore.activate` repoints the view,
flips the active flag and drops the replaced table in one commit, so no reader of the file
ever sees a half-built projection or a missing view. :meth:`SQLiteReadModelStore.save`
is all-or-nothing, stricter than the port requires.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from eventstore.adapters.sqlite_file import BACKEND, SQLiteFile
from eventstore.errors import StoreError
from projections import arguments, naming
from projections.adapters import sqlite_batches as batches
from projections.adapters import sqlite_tables as tables
from projections.adapters import sqlite_unwritable as unwritable
from projections.adapters import sqlite_versions as versions
from projections.adapters import sqlite_workers as workers
from projections.adapters.sqlite_tables import decode, table
from projections.errors import StaleWriteError, VersionGoneError
from projections.presence import WorkerReport
from projections.projection import Projection
from projections.store import Change, ReadModelStore, Versioned, check_changes
from projections.stored_fields import FieldMismatch
from projections.unwritable import Unwritable

D = TypeVar("D")

PAGE_SIZE: Final = 500
"""How many documents :meth:`SQLiteReadModelStore.documents` holds in memory at once."""
_IN_CHUNK: Final = 500
"""Keys per ``IN (…)`` list: SQLite caps the number of bound parameters in one statement."""


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SQLiteReadModelStore(SQLiteFile, ReadModelStore):
    """The embedded :class:`ReadModelStore` on one SQLite file, shared with the event log.

    Safe for several processes on one file: every write holds SQLite's write lock (waiting
    up to a minute for it), and every read is one statement, so it sees
    one committed state. Each failure of SQLite is raised as a
    :class:`~eventstore.errors.StoreError`.
    """

    backend = BACKEND

    def __init__(self, path: str | Path) -> None:
        self._known_active: set[str] = set()
        self._in_batch = False
        """Whether a :meth:`batch_writes` block is open: writes are savepoints of it."""
        self._open(path, versions.SCHEMA + batches.SCHEMA + unwritable.SCHEMA + workers.SCHEMA)

    # -- versions -----------------------------------------------------------------------

    def active_version(self, projection: Projection[D]) -> str:
        """Return the active version, creating (and activating) an empty one if none exists.

        The first call of a process brings a table made by an earlier cirec up to date:
        the columns and indexes declared since are added (:func:`tables.upgrade`).
        """
        naming.projection_name(projection.name)
        with self._translated("active_version"):
            known = projection.name in self._known_active
            found = self._active(projection)
            if found is not None:
                if not known and tables.outdated(self._db, projection, found):
                    self._upgrade(projection)
                return found
            with self._write_transaction() as db:
                found = self._active(projection)
                if found is None:
                    found = versions.create(db, projection, active=True)
                    tables.point_view(db, projection, found)
            return found

    def _upgrade(self, projection: Projection[Any]) -> None:
        """Give the active version's table the columns and indexes declared since it was made."""
        with self._write_transaction() as db:
            found = self._active(projection)
            if found is not None:
                tables.upgrade(db, projection, found)

    def new_version(self, projection: Projection[D]) -> str:
        """Create an empty, inactive version with checkpoint 0 and return its name."""
        naming.projection_name(projection.name)
        with self._translated("new_version"), self._write_transaction() as db:
            return versions.create(db, projection, active=False)

    def activate(self, projection: Projection[D], version: str) -> None:
        """Switch the view and the active flag to ``version`` and drop the replaced table.

        All in one transaction. Activating the active version changes nothing; a version
        that does not exist raises :class:`VersionGoneError`.
        """
        table(projection, version)
        with self._translated("activate"), self._write_transaction() as db:
            if not versions.exists(self._db, projection.name, version):
                raise VersionGoneError(projection.name, version)
            old = self._active(projection)
            if old == version:
                return
            if old is not None:
                versions.forget(db, projection.name, old)
                unwritable.forget(db, projection.name, old)
            versions.mark_active(db, projection.name, version)
            tables.point_view(db, projection, version)
            if old is not None:
                db.execute(f"DROP TABLE IF EXISTS {table(projection, old)}")
        self._known_active.add(projection.name)

    def discard(self, projection: Projection[D], version: str) -> None:
        """Drop an inactive ``version`` (absent already: nothing to do); refuse the active one.

        Raises :class:`~eventstore.errors.StoreError` for the active version, which is kept.
        """
        dropped = table(projection, version)
        with self._translated("discard"), self._write_transaction() as db:
            if self._active(projection) == version:
                raise StoreError(
                    BACKEND,
                    "discard",
                    f"{version} is the active version of {projection.name}; activate another first",
                )
            versions.forget(db, projection.name, version)
            unwritable.forget(db, projection.name, version)
            db.execute(f"DROP TABLE IF EXISTS {dropped}")

    def versions(self, projection: Projection[D]) -> list[str]:
        """Return every version of ``projection`` that exists, oldest first."""
        name = naming.projection_name(projection.name)
        with self._translated("versions"):
            return versions.names(self._db, name)

    def _active(self, projection: Projection[Any]) -> str | None:
        found = versions.active(self._db, projection.name)
        if found is not None:
            self._known_active.add(projection.name)
        return found

    # -- documents and checkpoints ------------------------------------------------------

    def load(
        self, projection: Projection[D], version: str, keys: Iterable[str]
    ) -> dict[str, Versioned[D]]:
        """Return the stored documents among ``keys`` (one query per 500 keys).

        Reads in one transaction, so a version dropped meanwhile is seen as gone
        (:class:`VersionGoneError`), never as a missing table.
        """
        source = table(projection, version)
        wanted = arguments.keys(keys)
        found: dict[str, Versioned[D]] = {}
        with self._translated("load"), self._read_transaction():
            if not versions.exists(self._db, projection.name, version):
                raise VersionGoneError(projection.name, version)
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, position, body FROM {source} WHERE key IN ({marks})",  # noqa: S608 -- checked identifier, placeholders
                    chunk,
                )
                for key, position, body in rows:
                    found[key] = Versioned(decode(projection, body), position)
        return found

    def save(self, projection: Projection[D], version: str, changes: Sequence[Change[D]]) -> None:
        """Write all ``changes`` or none: the first stale one rolls back the whole call.

        A change with ``loaded_at=None`` inserts (the key must still be absent); any other
        updates only the row still at position ``loaded_at``. Raises
        :class:`StaleWriteError` for the first change whose condition fails.
        """
        table(projection, version)
        check_changes(changes)
        if not changes:
            return
        with self._translated("save"), self._write_transaction() as db:
            if not versions.exists(self._db, projection.name, version):
                raise VersionGoneError(projection.name, version)
            for change in changes:
                if not tables.write(db, projection, version, change):
                    raise StaleWriteError(projection.name, change.key, change.loaded_at)

    def checkpoint(self, projection: Projection[D], version: str) -> int:
        """Return the position up to which ``version`` has folded the log.

        Raises :class:`VersionGoneError` if ``version`` does not exist.
        """
        table(projection, version)
        with self._translated("checkpoint"):
            return self._checkpoint_of(projection, version)

    def claim_batch(
        self, projection: Projection[D], version: str, start: int, end: int
    ) -> int | None:
        """Claim ``(start, end]`` in one transaction, or return the batch claimed before.

        None if the checkpoint is past ``start``; :class:`VersionGoneError` if
        ``version`` does not exist.
        """
        table(projection, version)
        start, end = arguments.batch(start, end)
        with self._translated("claim_batch"), self._write_transaction() as db:
            reached = self._checkpoint_of(projection, version)
            if reached > start:
                return None
            return batches.claim(db, projection.name, version, start, end)

    @contextmanager
    def batch_writes(self, projection: Projection[D], version: str) -> Iterator[None]:
        """Run the writes of one batch in one ``BEGIN IMMEDIATE`` transaction: one commit.

        Each write inside runs in a savepoint of it instead of a transaction of its own,
        so a failed ``save`` still writes none of its changes, and the first error
        raised out of the block rolls back the whole batch. A batch's claim, documents,
        marks and finish so cost one write lock and one fsync, not one each.
        """
        table(projection, version)
        if self._in_batch:
            yield  # already inside one: its writes join the outer batch
            return
        with self._translated("batch_writes"), super()._write_transaction():
            self._in_batch = True
            try:
                yield
            finally:
                self._in_batch = False

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write lock for the statements inside; within a batch, a savepoint of it."""
        if not self._in_batch:
            with super()._write_transaction() as db:
                yield db
            return
        self._db.execute("SAVEPOINT batch_write")
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK TO batch_write")
                self._db.execute("RELEASE batch_write")
            raise
        self._db.execute("RELEASE batch_write")

    @contextmanager
    def _read_transaction(self) -> Iterator[None]:
        """Hold one read snapshot for the statements inside; a batch's own already is one."""
        if self._in_batch:
            yield
            return
        with super()._read_transaction():
            yield

    def finish_batch(self, projection: Projection[D], version: str, start: int, end: int) -> None:
        """Finish ``(start, end]`` and move the checkpoint, in one transaction."""
        table(projection, version)
        start, end = arguments.batch(start, end)
        with self._translated("finish_batch"), self._write_transaction() as db:
            reached = self._checkpoint_of(projection, version)
            batches.finish(db, projection.name, version, start, end, reached)

    def _checkpoint_of(self, projection: Projection[Any], version: str) -> int:
        reached = batches.checkpoint(self._db, projection.name, version)
        if reached is None:
            raise VersionGoneError(projection.name, version)
        return reached

    def documents(
        self, projection: Projection[D], version: str
    ) -> Iterator[tuple[str, Versioned[D]]]:
        """Yield every document of ``version`` in key order, :data:`PAGE_SIZE` at a time.

        Each page is one query that starts after the last key seen, so memory stays bounded
        and no read transaction is held between pages. The names are checked at the call.
        """
        return self._pages(projection, table(projection, version))

    def _pages(self, projection: Projection[D], source: str) -> Iterator[tuple[str, Versioned[D]]]:
        for key, position, body in self._rows(source, ["position", "body"], "documents"):
            yield key, Versioned(decode(projection, body), position)

    def query_field_mismatches(
        self, projection: Projection[D], version: str
    ) -> Iterator[FieldMismatch]:
        """Yield each column of a queried field that differs from its row's ``body``.

        The column must hold exactly what a write puts there (:func:`tables.column_value`
        of the document's field: the text, the integer, a time's epoch milliseconds);
        the queries filter and order on it and return the body. Read a page at a time,
        as :meth:`documents` does; each row is compared with itself.
        """
        source = table(projection, version)
        names = list(projection.queried_by.fields)
        return self._mismatches(projection, source, names)

    def _mismatches(
        self, projection: Projection[D], source: str, names: list[str]
    ) -> Iterator[FieldMismatch]:
        if not names:
            return
        for key, body, *columns in self._rows(source, ["body", *names], "query_field_mismatches"):
            yield from tables.mismatches(
                projection, key, body, dict(zip(names, columns, strict=True))
            )

    def _rows(self, source: str, columns: list[str], operation: str) -> Iterator[tuple[Any, ...]]:
        """Yield ``key`` and ``columns`` of every row of ``source`` in key order, by pages.

        Each page is one query that starts after the last key seen, so memory stays
        bounded and no read transaction is held between pages.
        """
        selected = ", ".join(["key", *columns])
        first = f"SELECT {selected} FROM {source} ORDER BY key LIMIT ?"  # noqa: S608 -- checked identifiers
        after = f"SELECT {selected} FROM {source} WHERE key > ? ORDER BY key LIMIT ?"  # noqa: S608 -- checked identifiers
        last: str | None = None
        while True:
            with self._translated(operation):
                if last is None:
                    rows = self._db.execute(first, (PAGE_SIZE,)).fetchall()
                else:
                    rows = self._db.execute(after, (last, PAGE_SIZE)).fetchall()
            for row in rows:
                last = row[0]
                yield tuple(row)
            if len(rows) < PAGE_SIZE:
                return

    # -- unwritable keys -------------------------------------------------------------------

    def unwritable(
        self, projection: Projection[D], version: str, keys: Iterable[str] | None = None
    ) -> dict[str, Unwritable]:
        """Return the unwritable marks of ``version`` among ``keys`` (all if None)."""
        table(projection, version)
        wanted = None if keys is None else arguments.keys(keys)
        with self._translated("unwritable"), self._read_transaction():
            if not versions.exists(self._db, projection.name, version):
                raise VersionGoneError(projection.name, version)
            return unwritable.marks(self._db, projection.name, version, wanted)

    def mark_unwritable(
        self, projection: Projection[D], version: str, marks: Sequence[Unwritable]
    ) -> None:
        """Record the marks in one transaction; a mark never moves to a lower position."""
        table(projection, version)
        if not marks:
            return
        with self._translated("mark_unwritable"), self._write_transaction() as db:
            if not versions.exists(self._db, projection.name, version):
                raise VersionGoneError(projection.name, version)
            unwritable.mark(db, projection.name, version, marks)

    def clear_unwritable(
        self, projection: Projection[D], version: str, written: Mapping[str, int]
    ) -> None:
        """Delete, in one transaction, each key's mark at or below its written position."""
        table(projection, version)
        if not written:
            return
        with self._translated("clear_unwritable"), self._write_transaction() as db:
            unwritable.clear(db, projection.name, version, written)

    # -- reports of following workers ---------------------------------------------------

    def report_worker(self, report: WorkerReport) -> None:
        """Store ``report`` in one transaction, replacing its worker's earlier one."""
        with self._translated("report_worker"), self._write_transaction() as db:
            workers.report(db, report)

    def forget_workers(self, seen_before: datetime) -> int:
        """Delete the reports last renewed before ``seen_before``; return how many went."""
        with self._translated("forget_workers"), self._write_transaction() as db:
            return workers.forget(db, seen_before)

    def worker_reports(self) -> list[WorkerReport]:
        """Return the report of every worker, by worker name."""
        with self._translated("worker_reports"):
            return workers.reports(self._db)

    # -- reading the active version, through its view ------------------------------------

    def get(self, projection: Projection[D], key: str) -> D | None:
        """Return the document ``key`` of the active version, if it exists."""
        tables.view(projection)  # the name first, as every method checks it
        found = self.select(projection, "get", "WHERE key = ?", (arguments.text(key, "key"),))
        return found[0] if found else None

    def select(
        self, projection: Projection[D], operation: str, clause: str, params: Sequence[object]
    ) -> list[D]:
        """Return the documents of the active version that ``clause`` selects, in its order.

        For the query modules of read models (``sqlite_runs``): runs ``SELECT body FROM
        <the projection's view> {clause}`` once an active version exists. ``clause`` is
        SQL they write (conditions on the columns the projection is queried by,
        ``ORDER BY``, ``LIMIT``) with a ``?`` for each of ``params``, never a user's text.
        """
        source = tables.view(projection)
        if projection.name not in self._known_active:
            self.active_version(projection)
        with self._translated(operation):
            rows = self._db.execute(f"SELECT body FROM {source} {clause}", params).fetchall()  # noqa: S608 -- checked identifier; the clause binds every value
        return [decode(projection, body) for (body,) in rows]
