"""The workers' reports in the embedded store: ``read_model_workers``, one row per worker.

A row holds the report's JSON (see :mod:`projections.presence`) and, beside it, when it
was last renewed, as the report's own ISO 8601 UTC text, which sorts as time does. Each
function runs inside a transaction of the caller.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Final

from eventstore.codec import dump_json, json_converter, load_json
from projections.presence import WorkerReport

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS read_model_workers (
    worker  TEXT PRIMARY KEY,
    seen    TEXT NOT NULL,
    report  TEXT NOT NULL
);
"""


def report(db: sqlite3.Connection, worker: WorkerReport) -> None:
    """Within a write transaction: store ``worker``'s report, replacing its earlier one."""
    fields = json_converter.unstructure(worker)
    db.execute(
        "INSERT INTO read_model_workers (worker, seen, report) VALUES (?, ?, ?)"
        " ON CONFLICT (worker) DO UPDATE SET seen = excluded.seen, report = excluded.report",
        (worker.worker, fields["seen"], dump_json(fields)),
    )


def forget(db: sqlite3.Connection, seen_before: datetime) -> int:
    """Within a write transaction: delete the reports renewed before ``seen_before``."""
    cut = json_converter.unstructure(seen_before)
    return db.execute("DELETE FROM read_model_workers WHERE seen < ?", (cut,)).rowcount


def reports(db: sqlite3.Connection) -> list[WorkerReport]:
    """Return every report, by worker name."""
    rows = db.execute("SELECT report FROM read_model_workers ORDER BY worker").fetchall()
    return [json_converter.structure(load_json(text), WorkerReport) for (text,) in rows]
