"""The tables of a projection's versions in the embedded store, and the view over the live one.

Each version's table, ``{projection}__{version}`` (see :mod:`projections.naming`), has the
columns ``key``, ``position`` (of the last event folded into the document) and ``body``
(the document's compact JSON), and one more per field the projection is queried by
(:class:`~projections.projection.QuerySpec`): ``TEXT`` for a ``str`` field, ``INTEGER``
for an ``int`` and for a ``datetime`` (its milliseconds since the Unix epoch, see
:func:`column_value`), copied from the document on every write. Each index the
projection declares is created with the table, named ``{table}__{index}``, and ends
with ``key``, as MongoDB's end with ``_id``: queries break ties by key, and the index
gives that order too. A table made before a field was declared gets its column, filled
from the documents, and its indexes, on first use (:func:`upgrade`). Nothing here knows
any projection by name.

Every name is checked by :mod:`projections.naming` before it reaches SQL, so quoting
them is safe; every value is a bound parameter.
"""

from __future__ import annotations

import sqlite3
import typing
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

from eventstore.clock import to_epoch_millis
from eventstore.codec import dump_json, json_converter, load_json
from projections import naming
from projections.projection import Projection
from projections.store import Change
from projections.stored_fields import FieldMismatch, same

D = TypeVar("D")

SQL_TYPES: Final[dict[object, str]] = {str: "TEXT", int: "INTEGER", datetime: "INTEGER"}
"""The column type of each type a queried field may have."""
_FILLER: Final[dict[str, str]] = {"TEXT": "''", "INTEGER": "0"}
"""What a column added to a table holds until :func:`upgrade` fills it from the documents."""


def column_value(value: object) -> object:
    """Return what the column of a queried field holds for ``value``.

    A ``datetime`` (aware UTC) becomes its whole milliseconds since the Unix epoch, which
    order as the times do; a string or an integer is kept.
    """
    return to_epoch_millis(value) if isinstance(value, datetime) else value


def table(projection: Projection[Any], version: str) -> str:
    """Return the quoted name of the table holding ``version`` of ``projection``."""
    return f'"{naming.storage_name(projection.name, version)}"'


def view(projection: Projection[Any]) -> str:
    """Return the quoted name of the view over the active version: the projection's name."""
    return f'"{naming.projection_name(projection.name)}"'


def create_table(db: sqlite3.Connection, projection: Projection[Any], version: str) -> None:
    """Within a write transaction: create the empty table of ``version`` and its indexes."""
    name = naming.storage_name(projection.name, version)
    hints = typing.get_type_hints(projection.document_type)
    extra = "".join(
        f", {field} {SQL_TYPES[hints[field]]} NOT NULL" for field in projection.queried_by.fields
    )
    db.execute(
        f'CREATE TABLE "{name}" (key TEXT NOT NULL PRIMARY KEY,'
        f" position INTEGER NOT NULL, body TEXT NOT NULL{extra})"
    )
    _create_indexes(db, projection, name)


def _create_indexes(db: sqlite3.Connection, projection: Projection[Any], name: str) -> None:
    for index in projection.queried_by.indexes:
        columns = ", ".join(
            f"{field} DESC" if field in index.descending else field for field in index.fields
        )
        db.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}__{index.name}" ON "{name}" ({columns}, key)'
        )


def _missing_columns(db: sqlite3.Connection, name: str, projection: Projection[Any]) -> list[str]:
    present = {row[1] for row in db.execute(f'PRAGMA table_info("{name}")')}
    return [field for field in projection.queried_by.fields if field not in present]


def outdated(db: sqlite3.Connection, projection: Projection[Any], version: str) -> bool:
    """Tell whether the table of ``version`` lacks a declared column or index (:func:`upgrade`)."""
    name = naming.storage_name(projection.name, version)
    indexes = {
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (name,)
        )
    }
    wanted = {f"{name}__{index.name}" for index in projection.queried_by.indexes}
    return bool(_missing_columns(db, name, projection)) or not wanted <= indexes


def upgrade(db: sqlite3.Connection, projection: Projection[Any], version: str) -> None:
    """Within a write transaction: give the table of ``version`` every declared column and index.

    For a table made by an earlier cirec, before a field was declared: each missing
    column is added and filled from every document's body, and each declared index is
    created if absent. A table that has them all is left as it is.
    """
    name = naming.storage_name(projection.name, version)
    missing = _missing_columns(db, name, projection)
    if missing:
        hints = typing.get_type_hints(projection.document_type)
        for field in missing:
            kind = SQL_TYPES[hints[field]]
            db.execute(
                f'ALTER TABLE "{name}" ADD COLUMN {field} {kind} NOT NULL DEFAULT {_FILLER[kind]}'
            )
        assignments = ", ".join(f"{field} = ?" for field in missing)
        rows = db.execute(f'SELECT key, body FROM "{name}"').fetchall()  # noqa: S608 -- checked identifier
        for key, body in rows:
            document = decode(projection, body)
            values = [column_value(getattr(document, field)) for field in missing]
            db.execute(f'UPDATE "{name}" SET {assignments} WHERE key = ?', [*values, key])  # noqa: S608 -- checked identifiers
    _create_indexes(db, projection, name)


def point_view(db: sqlite3.Connection, projection: Projection[Any], version: str) -> None:
    """Within a write transaction: make the projection's view select from ``version``."""
    source, target = view(projection), table(projection, version)
    db.execute(f"DROP VIEW IF EXISTS {source}")
    db.execute(f"CREATE VIEW {source} AS SELECT * FROM {target}")  # noqa: S608 -- checked identifiers


def write(
    db: sqlite3.Connection, projection: Projection[D], version: str, change: Change[D]
) -> bool:
    """Write one change if its condition holds; return whether it did.

    A change with ``loaded_at=None`` inserts (the key must still be absent); any other
    updates only the row still at position ``loaded_at``.
    """
    target = table(projection, version)
    body = json_converter.unstructure(change.document)
    names = list(projection.queried_by.fields)
    queried = (column_value(getattr(change.document, name)) for name in names)
    values = [change.position, dump_json(body), *queried]
    if change.loaded_at is None:
        columns = ", ".join(["key", "position", "body", *names])
        marks = ",".join("?" * (len(values) + 1))
        cursor = db.execute(
            f"INSERT INTO {target} ({columns}) VALUES ({marks})"  # noqa: S608 -- checked identifiers
            " ON CONFLICT (key) DO NOTHING",
            [change.key, *values],
        )
    else:
        assignments = ", ".join(f"{name} = ?" for name in ["position", "body", *names])
        cursor = db.execute(
            f"UPDATE {target} SET {assignments} WHERE key = ? AND position = ?",  # noqa: S608 -- checked identifiers
            [*values, change.key, change.loaded_at],
        )
    return cursor.rowcount == 1


def mismatches(
    projection: Projection[Any], key: str, body: str, columns: Mapping[str, object]
) -> Iterator[FieldMismatch]:
    """Yield each of a row's query ``columns`` that does not hold what a write puts there.

    That is :func:`column_value` of the field of the document ``body`` holds, of the same
    kind (a column of ``INTEGER`` affinity can still hold text, or a real).
    """
    document = decode(projection, body)
    for name, stored in columns.items():
        expected = column_value(getattr(document, name))
        if not same(stored, expected):
            yield FieldMismatch(key, name, "column", stored, expected)


def decode(projection: Projection[D], body: str) -> D:
    """Return the document a row's ``body`` holds."""
    return json_converter.structure(load_json(body), projection.document_type)
