"""The embedded read-model store: the read models in the event store's own SQLite file.

Layout, beside the ``events`` table:

* one table per version of a projection, ``{projection}__v{n}`` (n = 1, 2, … and never
  reused), with columns ``key``, ``position`` (of the last event folded into the
  document) and ``body`` (the document's compact JSON). ``jobs_history`` tables also
  carry ``repo_name``, ``repo_url``, ``pipeline_name``, ``branch`` and ``run_number``,
  copied from the body on every write and indexed for the run queries;
* ``read_model_versions``: every version that exists, which one is active (at most one
  per projection, by a unique index) and its checkpoint; ``read_model_sequences``: the
  last version number handed out per projection, so a dropped version's name never
  comes back;
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

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

from attrs import frozen

from eventstore.adapters.sqlite_file import BACKEND, SQLiteFile
from eventstore.codec import dump_json, json_converter, load_json
from eventstore.errors import StoreError
from projections import arguments, naming
from projections.adapters import sqlite_batches as batches
from projections.documents import RunDocument
from projections.errors import StaleWriteError, VersionGoneError
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Projection
from projections.store import Change, ReadModelStore, Versioned

D = TypeVar("D")

PAGE_SIZE: Final = 500
"""How many documents :meth:`SQLiteReadModelStore.documents` holds in memory at once."""
_IN_CHUNK: Final = 500
"""Keys per ``IN (…)`` list: SQLite caps the number of bound parameters in one statement."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS read_model_versions (
    projection  TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    checkpoint  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (projection, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS read_model_versions_one_active
    ON read_model_versions (projection) WHERE active = 1;
CREATE TABLE IF NOT EXISTS read_model_sequences (
    projection    TEXT    PRIMARY KEY,
    last_version  INTEGER NOT NULL
);
"""


@frozen
class _Shape:
    """The columns a projection's tables carry besides key, position and body."""

    columns: tuple[tuple[str, str], ...] = ()
    """(name, SQL type) of each column copied from the document's top-level field."""
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(suffix, columns) of each index on those columns."""


_RUN_SHAPE = _Shape(
    columns=(
        ("repo_name", "TEXT"),
        ("repo_url", "TEXT"),
        ("pipeline_name", "TEXT"),
        ("branch", "TEXT"),
        ("run_number", "INTEGER"),
    ),
    indexes=(("by_pipeline", ("repo_name", "repo_url", "pipeline_name", "run_number")),),
)
_SHAPES: Final = {JOBS_HISTORY.name: _RUN_SHAPE}


def _shape(projection: Projection[Any]) -> _Shape:
    return _SHAPES.get(projection.name, _Shape())


def _table_name(projection: Projection[Any], version: str) -> str:
    """Return the name of the table holding ``version`` of ``projection`` (names checked)."""
    return naming.storage_name(projection.name, version)


def _table(projection: Projection[Any], version: str) -> str:
    """Return the quoted name of the table holding ``version`` of ``projection``."""
    return f'"{_table_name(projection, version)}"'


def _view(projection: Projection[Any]) -> str:
    """Return the quoted name of the view over the active version: the projection's name."""
    return f'"{naming.projection_name(projection.name)}"'


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
        self._open(path, _SCHEMA + batches.SCHEMA)

    # -- versions -----------------------------------------------------------------------

    def active_version(self, projection: Projection[D]) -> str:
        """Return the active version, creating (and activating) an empty one if none exists."""
        _view(projection)
        with self._translated("active_version"):
            found = self._active(projection)
            if found is not None:
                return found
            with self._write_transaction():
                found = self._active(projection)
                if found is None:
                    found = self._create_version(projection, active=True)
                    self._point_view(projection, found)
            return found

    def new_version(self, projection: Projection[D]) -> str:
        """Create an empty, inactive version with checkpoint 0 and return its name."""
        _view(projection)
        with self._translated("new_version"), self._write_transaction():
            return self._create_version(projection, active=False)

    def activate(self, projection: Projection[D], version: str) -> None:
        """Switch the view and the active flag to ``version`` and drop the replaced table.

        All in one transaction. Activating the active version changes nothing; a version
        that does not exist raises :class:`VersionGoneError`.
        """
        _table(projection, version)
        with self._translated("activate"), self._write_transaction() as db:
            if not self._exists(projection, version):
                raise VersionGoneError(projection.name, version)
            old = self._active(projection)
            if old == version:
                return
            if old is not None:
                self._forget(projection, old)
            db.execute(
                "UPDATE read_model_versions SET active = 1 WHERE projection = ? AND version = ?",
                (projection.name, version),
            )
            self._point_view(projection, version)
            if old is not None:
                db.execute(f"DROP TABLE IF EXISTS {_table(projection, old)}")
        self._known_active.add(projection.name)

    def discard(self, projection: Projection[D], version: str) -> None:
        """Drop an inactive ``version`` (absent already: nothing to do); refuse the active one.

        Raises :class:`~eventstore.errors.StoreError` for the active version, which is kept.
        """
        dropped = _table(projection, version)
        with self._translated("discard"), self._write_transaction() as db:
            if self._active(projection) == version:
                raise StoreError(
                    BACKEND,
                    "discard",
                    f"{version} is the active version of {projection.name}; activate another first",
                )
            self._forget(projection, version)
            db.execute(f"DROP TABLE IF EXISTS {dropped}")

    def versions(self, projection: Projection[D]) -> list[str]:
        """Return every version of ``projection`` that exists, oldest first."""
        name = naming.projection_name(projection.name)
        with self._translated("versions"):
            rows = self._db.execute(
                "SELECT version FROM read_model_versions WHERE projection = ?", (name,)
            ).fetchall()
        return sorted((str(row[0]) for row in rows), key=naming.version_number)

    def _active(self, projection: Projection[Any]) -> str | None:
        row = self._db.execute(
            "SELECT version FROM read_model_versions WHERE projection = ? AND active = 1",
            (projection.name,),
        ).fetchone()
        if row is None:
            return None
        self._known_active.add(projection.name)
        return str(row[0])

    def _exists(self, projection: Projection[Any], version: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM read_model_versions WHERE projection = ? AND version = ?",
            (projection.name, version),
        ).fetchone()
        return row is not None

    def _forget(self, projection: Projection[Any], version: str) -> None:
        batches.forget(self._db, projection.name, version)
        self._db.execute(
            "DELETE FROM read_model_versions WHERE projection = ? AND version = ?",
            (projection.name, version),
        )

    def _create_version(self, projection: Projection[Any], *, active: bool) -> str:
        """Within a write transaction: number, register and create a new, empty version."""
        self._db.execute(
            "INSERT INTO read_model_sequences (projection, last_version) VALUES (?, 1)"
            " ON CONFLICT (projection) DO UPDATE SET last_version = last_version + 1",
            (projection.name,),
        )
        (number,) = self._db.execute(
            "SELECT last_version FROM read_model_sequences WHERE projection = ?",
            (projection.name,),
        ).fetchone()
        version = naming.version_name(number)
        self._db.execute(
            "INSERT INTO read_model_versions (projection, version, active, checkpoint)"
            " VALUES (?, ?, ?, 0)",
            (projection.name, version, int(active)),
        )
        self._create_table(projection, version)
        return version

    def _create_table(self, projection: Projection[Any], version: str) -> None:
        table, shape = _table(projection, version), _shape(projection)
        extra = "".join(f", {name} {kind} NOT NULL" for name, kind in shape.columns)
        self._db.execute(
            f"CREATE TABLE {table} (key TEXT NOT NULL PRIMARY KEY,"
            f" position INTEGER NOT NULL, body TEXT NOT NULL{extra})"
        )
        for suffix, columns in shape.indexes:
            index = f'"{_table_name(projection, version)}__{suffix}"'
            self._db.execute(f"CREATE INDEX {index} ON {table} ({', '.join(columns)})")

    def _point_view(self, projection: Projection[Any], version: str) -> None:
        """Within a write transaction: make the projection's view select from ``version``."""
        view = _view(projection)
        self._db.execute(f"DROP VIEW IF EXISTS {view}")
        self._db.execute(
            f"CREATE VIEW {view} AS SELECT * FROM {_table(projection, version)}"  # noqa: S608 -- checked identifiers
        )

    # -- documents and checkpoints ------------------------------------------------------

    def load(
        self, projection: Projection[D], version: str, keys: Iterable[str]
    ) -> dict[str, Versioned[D]]:
        """Return the stored documents among ``keys`` (one query per 500 keys).

        Reads in one transaction, so a version dropped meanwhile is seen as gone
        (:class:`VersionGoneError`), never as a missing table.
        """
        table = _table(projection, version)
        wanted = arguments.keys(keys)
        found: dict[str, Versioned[D]] = {}
        with self._translated("load"), self._read_transaction():
            if not self._exists(projection, version):
                raise VersionGoneError(projection.name, version)
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, position, body FROM {table} WHERE key IN ({marks})",  # noqa: S608 -- checked identifier, placeholders
                    chunk,
                )
                for key, position, body in rows:
                    found[key] = Versioned(_decode(projection, body), position)
        return found

    def save(self, projection: Projection[D], version: str, changes: Sequence[Change[D]]) -> None:
        """Write all ``changes`` or none: the first stale one rolls back the whole call.

        A change with ``loaded_at=None`` inserts (the key must still be absent); any other
        updates only the row still at position ``loaded_at``. Raises
        :class:`StaleWriteError` for the first change whose condition fails.
        """
        table = _table(projection, version)
        arguments.changes(changes)
        if not changes:
            return
        with self._translated("save"), self._write_transaction():
            if not self._exists(projection, version):
                raise VersionGoneError(projection.name, version)
            for change in changes:
                if not self._write(projection, table, change):
                    raise StaleWriteError(projection.name, change.key, change.loaded_at)

    def _write(self, projection: Projection[D], table: str, change: Change[D]) -> bool:
        """Write one change if its condition holds; return whether it did."""
        body = json_converter.unstructure(change.document)
        names = [name for name, _ in _shape(projection).columns]
        values = [change.position, dump_json(body), *(body[name] for name in names)]
        if change.loaded_at is None:
            columns = ", ".join(["key", "position", "body", *names])
            marks = ",".join("?" * (len(values) + 1))
            cursor = self._db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 -- checked identifiers
                " ON CONFLICT (key) DO NOTHING",
                [change.key, *values],
            )
        else:
            assignments = ", ".join(f"{name} = ?" for name in ["position", "body", *names])
            cursor = self._db.execute(
                f"UPDATE {table} SET {assignments} WHERE key = ? AND position = ?",  # noqa: S608 -- checked identifiers
                [*values, change.key, change.loaded_at],
            )
        return cursor.rowcount == 1

    def checkpoint(self, projection: Projection[D], version: str) -> int:
        """Return the position up to which ``version`` has folded the log.

        Raises :class:`VersionGoneError` if ``version`` does not exist.
        """
        _table(projection, version)
        with self._translated("checkpoint"):
            return self._checkpoint_of(projection, version)

    def claim_batch(
        self, projection: Projection[D], version: str, start: int, end: int
    ) -> int | None:
        """Claim ``(start, end]`` in one transaction, or return the batch claimed before.

        None if the checkpoint is past ``start``; :class:`VersionGoneError` if
        ``version`` does not exist.
        """
        _table(projection, version)
        start, end = arguments.batch(start, end)
        with self._translated("claim_batch"), self._write_transaction() as db:
            reached = self._checkpoint_of(projection, version)
            if reached > start:
                return None
            return batches.claim(db, projection.name, version, start, end)

    def finish_batch(self, projection: Projection[D], version: str, start: int, end: int) -> None:
        """Finish ``(start, end]`` and move the checkpoint, in one transaction."""
        _table(projection, version)
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
        return self._pages(projection, _table(projection, version))

    def _pages(self, projection: Projection[D], table: str) -> Iterator[tuple[str, Versioned[D]]]:
        first = f"SELECT key, position, body FROM {table} ORDER BY key LIMIT ?"  # noqa: S608 -- checked identifier
        after = f"SELECT key, position, body FROM {table} WHERE key > ? ORDER BY key LIMIT ?"  # noqa: S608 -- checked identifier
        last: str | None = None
        while True:
            with self._translated("documents"):
                if last is None:
                    rows = self._db.execute(first, (PAGE_SIZE,)).fetchall()
                else:
                    rows = self._db.execute(after, (last, PAGE_SIZE)).fetchall()
            for key, position, body in rows:
                last = key
                yield key, Versioned(_decode(projection, body), position)
            if len(rows) < PAGE_SIZE:
                return

    # -- queries (on the active version, through its view) ------------------------------

    def _query(
        self, projection: Projection[Any], operation: str, sql: str, params: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """Run ``sql`` (which reads the projection's view) once an active version exists."""
        if projection.name not in self._known_active:
            self.active_version(projection)
        with self._translated(operation):
            return self._db.execute(sql, params).fetchall()

    def get(self, projection: Projection[D], key: str) -> D | None:
        """Return the document ``key`` of the active version, if it exists."""
        sql = f"SELECT body FROM {_view(projection)} WHERE key = ?"  # noqa: S608 -- checked identifier
        rows = self._query(projection, "get", sql, (arguments.text(key, "key"),))
        return _decode(projection, rows[0][0]) if rows else None

    def runs(
        self, repo_name: str, repo_url: str, pipeline_name: str, *, skip: int = 0, limit: int = 20
    ) -> list[RunDocument]:
        """Return one page of a pipeline's runs, highest run number first.

        A ``limit`` of 0 or less gives an empty page; a negative ``skip`` counts as 0.
        """
        names = _pipeline(repo_name, repo_url, pipeline_name)
        skip, limit = arguments.whole_number(skip, "skip"), arguments.whole_number(limit, "limit")
        if limit <= 0:
            return []
        sql = (
            f"SELECT body FROM {_view(JOBS_HISTORY)}"  # noqa: S608 -- checked identifier
            " WHERE repo_name = ? AND repo_url = ? AND pipeline_name = ?"
            " ORDER BY run_number DESC LIMIT ? OFFSET ?"
        )
        params = (*names, limit, max(skip, 0))
        rows = self._query(JOBS_HISTORY, "runs", sql, params)
        return [_decode(JOBS_HISTORY, body) for (body,) in rows]

    def run(
        self, repo_name: str, repo_url: str, pipeline_name: str, run_number: int
    ) -> RunDocument | None:
        """Return run ``run_number`` of a pipeline, if it exists."""
        sql = (
            f"SELECT body FROM {_view(JOBS_HISTORY)}"  # noqa: S608 -- checked identifier
            " WHERE repo_name = ? AND repo_url = ? AND pipeline_name = ? AND run_number = ?"
            " LIMIT 1"
        )
        params = (
            *_pipeline(repo_name, repo_url, pipeline_name),
            arguments.whole_number(run_number, "run_number"),
        )
        rows = self._query(JOBS_HISTORY, "run", sql, params)
        return _decode(JOBS_HISTORY, rows[0][0]) if rows else None


def _pipeline(repo_name: object, repo_url: object, pipeline_name: object) -> tuple[str, ...]:
    """Return the names a run query selects by, each checked to be a string."""
    return (
        arguments.text(repo_name, "repo_name"),
        arguments.text(repo_url, "repo_url"),
        arguments.text(pipeline_name, "pipeline_name"),
    )


def _decode(projection: Projection[D], body: str) -> D:
    """Return the document a row's ``body`` holds."""
    return json_converter.structure(load_json(body), projection.document_type)
