"""The versions of the read models in the embedded store's SQLite file, and which is active.

``read_model_versions`` holds every version that exists, whether it is the active one (at
most one per projection, by a unique index) and its checkpoint. ``read_model_sequences``
holds the last version number handed out per projection, so a dropped version's name
never comes back. Each function runs inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

from projections import naming
from projections.adapters import sqlite_batches as batches
from projections.adapters import sqlite_tables as tables
from projections.projection import Projection

SCHEMA: Final = """
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


def active(db: sqlite3.Connection, projection: str) -> str | None:
    """Return the active version of ``projection``, or None if none is active."""
    row = db.execute(
        "SELECT version FROM read_model_versions WHERE projection = ? AND active = 1",
        (projection,),
    ).fetchone()
    return None if row is None else str(row[0])


def names(db: sqlite3.Connection, projection: str) -> list[str]:
    """Return every version of ``projection`` that exists, oldest first."""
    rows = db.execute(
        "SELECT version FROM read_model_versions WHERE projection = ?", (projection,)
    ).fetchall()
    return sorted((str(row[0]) for row in rows), key=naming.version_number)


def exists(db: sqlite3.Connection, projection: str, version: str) -> bool:
    """Return whether ``version`` of ``projection`` exists."""
    row = db.execute(
        "SELECT 1 FROM read_model_versions WHERE projection = ? AND version = ?",
        (projection, version),
    ).fetchone()
    return row is not None


def mark_active(db: sqlite3.Connection, projection: str, version: str) -> None:
    """Within a write transaction: set the active flag of ``version`` (the old one is gone)."""
    db.execute(
        "UPDATE read_model_versions SET active = 1 WHERE projection = ? AND version = ?",
        (projection, version),
    )


def forget(db: sqlite3.Connection, projection: str, version: str) -> None:
    """Within a write transaction: delete a version's record and its batches (not its table)."""
    batches.forget(db, projection, version)
    db.execute(
        "DELETE FROM read_model_versions WHERE projection = ? AND version = ?",
        (projection, version),
    )


def create(db: sqlite3.Connection, projection: Projection[Any], *, active: bool) -> str:
    """Within a write transaction: number, register and create a new, empty version."""
    db.execute(
        "INSERT INTO read_model_sequences (projection, last_version) VALUES (?, 1)"
        " ON CONFLICT (projection) DO UPDATE SET last_version = last_version + 1",
        (projection.name,),
    )
    (number,) = db.execute(
        "SELECT last_version FROM read_model_sequences WHERE projection = ?",
        (projection.name,),
    ).fetchone()
    version = naming.version_name(number)
    db.execute(
        "INSERT INTO read_model_versions (projection, version, active, checkpoint)"
        " VALUES (?, ?, ?, 0)",
        (projection.name, version, int(active)),
    )
    tables.create_table(db, projection, version)
    return version
