"""Claimed batches and checkpoints in the embedded store's SQLite file.

Each call runs inside a write transaction of the caller, so here a checkpoint is exact:
it is the ``checkpoint`` column of ``read_model_versions``, moved past every finished
batch in the transaction that finishes one. Rows of batches the checkpoint has passed
are deleted then; a claim made afterwards from a position the checkpoint has passed is
refused, so a worker that read the checkpoint long ago folds nothing twice.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from eventstore.adapters.sqlite_file import BACKEND
from eventstore.errors import StoreError

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS read_model_batches (
    projection      TEXT    NOT NULL,
    version         TEXT    NOT NULL,
    after_position  INTEGER NOT NULL,
    last_position   INTEGER NOT NULL,
    finished        INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1)),
    PRIMARY KEY (projection, version, after_position)
);
"""


def checkpoint(db: sqlite3.Connection, projection: str, version: str) -> int | None:
    """Return the checkpoint of ``version``, or None if the version does not exist."""
    row = db.execute(
        "SELECT checkpoint FROM read_model_versions WHERE projection = ? AND version = ?",
        (projection, version),
    ).fetchone()
    return None if row is None else int(row[0])


def claim(db: sqlite3.Connection, projection: str, version: str, start: int, end: int) -> int:
    """Within a write transaction: claim ``(start, end]`` unless claimed; return its end."""
    db.execute(
        "INSERT INTO read_model_batches (projection, version, after_position, last_position)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (projection, version, start, end),
    )
    (claimed,) = db.execute(
        "SELECT last_position FROM read_model_batches"
        " WHERE projection = ? AND version = ? AND after_position = ?",
        (projection, version, start),
    ).fetchone()
    return int(claimed)


def finish(
    db: sqlite3.Connection, projection: str, version: str, start: int, end: int, reached: int
) -> None:
    """Within a write transaction: finish ``(start, end]`` and move the checkpoint.

    ``reached`` is the version's checkpoint now; a batch it has passed was finished
    already and is left alone.
    """
    if reached >= end:
        return
    marked = db.execute(
        "UPDATE read_model_batches SET finished = 1"
        " WHERE projection = ? AND version = ? AND after_position = ? AND last_position = ?",
        (projection, version, start, end),
    )
    if marked.rowcount != 1:
        detail = f"{projection}/{version} has no claimed batch after {start} up to {end}"
        raise StoreError(BACKEND, "finish_batch", detail)
    while (
        row := db.execute(
            "SELECT last_position FROM read_model_batches WHERE projection = ? AND version = ?"
            " AND after_position = ? AND finished = 1",
            (projection, version, reached),
        ).fetchone()
    ) is not None:
        reached = int(row[0])
    db.execute(
        "UPDATE read_model_versions SET checkpoint = ? WHERE projection = ? AND version = ?",
        (reached, projection, version),
    )
    db.execute(
        "DELETE FROM read_model_batches"
        " WHERE projection = ? AND version = ? AND after_position < ?",
        (projection, version, reached),
    )


def forget(db: sqlite3.Connection, projection: str, version: str) -> None:
    """Within a write transaction: delete every batch of a version that is going away."""
    db.execute(
        "DELETE FROM read_model_batches WHERE projection = ? AND version = ?",
        (projection, version),
    )
