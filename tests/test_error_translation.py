"""Driver errors become the project's own types at the adapter boundary (a table per driver)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pymongo.errors
import pytest

from eventstore.adapters.mongo_connection import MongoErrors
from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.errors import StoreError, StoreUnavailableError
from tests.workers import new_event

SECRET = "hunter2-not-real"  # noqa: S105 -- made up, so we can check no message shows it


@pytest.mark.parametrize(
    ("driver_error", "ours"),
    [
        (pymongo.errors.ServerSelectionTimeoutError("no server"), StoreUnavailableError),
        (pymongo.errors.AutoReconnect("connection reset"), StoreUnavailableError),
        (pymongo.errors.NetworkTimeout("timed out"), StoreUnavailableError),
        (pymongo.errors.OperationFailure(f"auth failed for {SECRET}", code=18), StoreError),
        (pymongo.errors.WriteError("bad", code=2), StoreError),
        (pymongo.errors.CursorNotFound("gone", code=43), StoreError),
    ],
)
def test_pymongo_errors_are_translated(
    driver_error: pymongo.errors.PyMongoError, ours: type[StoreError]
) -> None:
    errors = MongoErrors(f"mongodb://ci:{SECRET}@127.0.0.1:1/x")
    with pytest.raises(ours) as caught, errors.translated("append"):
        raise driver_error
    assert type(caught.value) is ours
    assert SECRET not in str(caught.value)
    assert type(driver_error).__name__ in str(caught.value)


@pytest.mark.parametrize(
    "driver_error",
    [
        sqlite3.OperationalError("database is locked"),
        sqlite3.IntegrityError("UNIQUE constraint failed: events.position"),
        sqlite3.DatabaseError("database disk image is malformed"),
    ],
)
def test_sqlite_errors_are_translated(tmp_path: Path, driver_error: sqlite3.Error) -> None:
    with SQLiteEventStore(tmp_path / "e.sqlite3") as store:
        with pytest.raises(StoreError) as caught, store._translated("append"):
            raise driver_error
        assert str(driver_error) in str(caught.value)
        assert caught.value.backend == "sqlite"


def test_a_locked_sqlite_file_is_a_store_error_not_a_driver_error(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with SQLiteEventStore(path) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        store._db.execute("PRAGMA busy_timeout = 50")
        try:
            with pytest.raises(StoreError, match="locked"):
                store.append("s", [new_event()])
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_events_cannot_be_changed_or_removed_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with SQLiteEventStore(path) as store:
        store.append("s", [new_event(i=1)])
    raw = sqlite3.connect(path)
    for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute(statement)
    raw.close()
