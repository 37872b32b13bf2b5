"""The unwritable marks of the embedded store: one row per (projection, version, key).

See :mod:`projections.unwritable` for what a mark means. Each function runs inside a
transaction of the caller; the rows of a version go when the version does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

from projections.unwritable import Unwritable

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS read_model_unwritable (
    projection  TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    size_limit  INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    PRIMARY KEY (projection, version, key)
);
"""
_COLUMNS: Final = "key, position, size, size_limit, reason"
_IN_CHUNK: Final = 500


def marks(
    db: sqlite3.Connection, projection: str, version: str, keys: Sequence[str] | None
) -> dict[str, Unwritable]:
    """Return the marks of a version among ``keys`` (all if None)."""
    found: dict[str, Unwritable] = {}
    for rows in _selected(db, projection, version, keys):
        for key, position, size, limit, reason in rows:
            found[key] = Unwritable(
                key=key, position=position, size=size, limit=limit, reason=reason
            )
    return found


def _selected(
    db: sqlite3.Connection, projection: str, version: str, keys: Sequence[str] | None
) -> Iterator[list[tuple[str, int, int, int, str]]]:
    query = f"SELECT {_COLUMNS} FROM read_model_unwritable WHERE projection = ? AND version = ?"  # noqa: S608 -- constant columns
    if keys is None:
        yield db.execute(query, (projection, version)).fetchall()
        return
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        marks_sql = ",".join("?" * len(chunk))
        yield db.execute(
            f"{query} AND key IN ({marks_sql})", (projection, version, *chunk)
        ).fetchall()


def mark(
    db: sqlite3.Connection, projection: str, version: str, marks: Sequence[Unwritable]
) -> None:
    """Within a write transaction: record each mark unless one at a higher position is there."""
    db.executemany(
        f"INSERT INTO read_model_unwritable (projection, version, {_COLUMNS})"  # noqa: S608 -- constant columns
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (projection, version, key) DO UPDATE SET position = excluded.position,"
        " size = excluded.size, size_limit = excluded.size_limit, reason = excluded.reason"
        " WHERE excluded.position > read_model_unwritable.position",
        [
            (projection, version, each.key, each.position, each.size, each.limit, each.reason)
            for each in marks
        ],
    )


def clear(
    db: sqlite3.Connection, projection: str, version: str, written: Mapping[str, int]
) -> None:
    """Within a write transaction: delete each key's mark at or below its written position."""
    db.executemany(
        "DELETE FROM read_model_unwritable"
        " WHERE projection = ? AND version = ? AND key = ? AND position <= ?",
        [(projection, version, key, position) for key, position in written.items()],
    )


def forget(db: sqlite3.Connection, projection: str, version: str) -> None:
    """Within a write transaction: delete every mark of a version that is going away."""
    db.execute(
        "DELETE FROM read_model_unwritable WHERE projection = ? AND version = ?",
        (projection, version),
    )
