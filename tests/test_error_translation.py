"""Driver errors become the project's own types at the adapter boundary (a table per driver)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pymongo.errors
import pytest

from cirec.config import open_store
from eventstore.adapters.mongo_connection import MongoErrors
from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.adapters.sqlite_file import is_lock_contention, primary_code
from eventstore.errors import StoreError, StoreUnavailableError
from tests.workers import new_event

SECRET = "hunter2-not-real"  # noqa: S105 -- made up, so we can check no message shows it


@pytest.mark.parametrize(
    ("driver_error", "ours", "transient"),
    [
        (pymongo.errors.ServerSelectionTimeoutError("no server"), StoreUnavailableError, True),
        (pymongo.errors.AutoReconnect("connection reset"), StoreUnavailableError, True),
        (pymongo.errors.NetworkTimeout("timed out"), StoreUnavailableError, True),
        (pymongo.errors.ExecutionTimeout("time limit", code=50), StoreUnavailableError, True),
        (pymongo.errors.OperationFailure("stepped down", code=189), StoreUnavailableError, True),
        (pymongo.errors.OperationFailure(f"auth failed for {SECRET}", code=18), StoreError, False),
        # FerretDB v1 shutting down, as it answered a test's append on SIGTERM:
        (
            pymongo.errors.OperationFailure(
                "[msg_find.go:344 handler.handleMaxTimeMSError] context canceled after delay",
                code=1,
            ),
            StoreUnavailableError,
            True,
        ),
        (pymongo.errors.OperationFailure("internal", code=1), StoreError, False),
        (pymongo.errors.WriteError("bad", code=2), StoreError, False),
        (pymongo.errors.CursorNotFound("gone", code=43), StoreError, False),
    ],
)
def test_pymongo_errors_are_translated(
    driver_error: pymongo.errors.PyMongoError, ours: type[StoreError], transient: bool
) -> None:
    errors = MongoErrors(f"mongodb://ci:{SECRET}@127.0.0.1:1/x")
    with pytest.raises(ours) as caught, errors.translated("append"):
        raise driver_error
    assert type(caught.value) is ours
    assert caught.value.transient is transient
    assert caught.value.operation == "append"
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


def sqlite_error(name: str, text: str = "database is locked") -> sqlite3.Error:
    """Return an error as SQLite raises it: with the result code ``name`` and that name."""
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = getattr(sqlite3, name)
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(
    ("name", "ours", "meaning", "transient"),
    [
        ("SQLITE_BUSY", StoreError, "locked by another connection", True),
        ("SQLITE_BUSY_SNAPSHOT", StoreError, "locked by another connection", True),
        ("SQLITE_LOCKED", StoreError, "locked by another statement", True),
        ("SQLITE_FULL", StoreError, "disk is full", True),
        ("SQLITE_READONLY", StoreError, "cannot be written", False),
        ("SQLITE_IOERR_WRITE", StoreError, "I/O error", True),
        ("SQLITE_CONSTRAINT_TRIGGER", StoreError, "constraint refused", False),
        ("SQLITE_CANTOPEN", StoreUnavailableError, "cannot be opened", False),
        ("SQLITE_NOTADB", StoreUnavailableError, "not an SQLite database", False),
        ("SQLITE_CORRUPT", StoreUnavailableError, "damaged", False),
        ("SQLITE_PERM", StoreUnavailableError, "denied", False),
        ("SQLITE_ERROR", StoreError, "OperationalError", False),
    ],
)
def test_sqlite_errors_are_classified_by_their_result_code(
    tmp_path: Path, name: str, ours: type[StoreError], meaning: str, transient: bool
) -> None:
    # Every message says "locked": only the code may decide.
    driver_error = sqlite_error(name)
    store = SQLiteEventStore(tmp_path / "e.sqlite3")
    with store, pytest.raises(StoreError) as caught, store._translated("append"):
        raise driver_error
    assert type(caught.value) is ours
    assert caught.value.transient is transient
    assert caught.value.backend == "sqlite"
    assert meaning in caught.value.detail
    assert "database is locked" in caught.value.detail
    assert caught.value.__cause__ is driver_error
    if isinstance(caught.value, StoreUnavailableError):
        assert caught.value.location == str(tmp_path / "e.sqlite3")


@pytest.mark.parametrize(
    ("driver_error", "contention"),
    [
        (sqlite_error("SQLITE_BUSY"), True),
        (sqlite_error("SQLITE_BUSY_RECOVERY"), True),
        (sqlite_error("SQLITE_LOCKED"), True),
        (sqlite_error("SQLITE_LOCKED_SHAREDCACHE"), True),
        (sqlite_error("SQLITE_FULL"), False),
        (sqlite_error("SQLITE_IOERR_LOCK"), False),
        (sqlite3.OperationalError("database is locked"), False),  # no code: not SQLite's own
    ],
)
def test_only_busy_and_locked_codes_count_as_lock_contention(
    driver_error: sqlite3.Error, contention: bool
) -> None:
    assert is_lock_contention(driver_error) is contention


def test_a_locked_sqlite_file_is_a_store_error_not_a_driver_error(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with SQLiteEventStore(path) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        store._db.execute("PRAGMA busy_timeout = 50")
        try:
            with pytest.raises(StoreError, match="locked") as caught:
                store.append("s", [new_event()])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert caught.value.detail.startswith("SQLITE_BUSY: ")
    assert isinstance(caught.value.__cause__, sqlite3.Error)
    assert primary_code(caught.value.__cause__) == sqlite3.SQLITE_BUSY


def test_a_full_sqlite_file_is_a_store_error_naming_the_code(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "e.sqlite3") as store:
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()
        store._db.execute(f"PRAGMA max_page_count = {pages + 1}")
        with pytest.raises(StoreError) as caught:
            store.append("s", [new_event(i=1, log="x" * 100_000)])
        assert type(caught.value) is StoreError
        assert caught.value.detail.startswith("SQLITE_FULL: ")
        assert store.head() == 0


def test_a_read_only_sqlite_file_is_a_store_error_naming_the_code(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "e.sqlite3") as store:
        store._db.execute("PRAGMA query_only = ON")
        with pytest.raises(StoreError) as caught:
            store.append("s", [new_event()])
        assert type(caught.value) is StoreError
        assert caught.value.detail.startswith("SQLITE_READONLY: ")


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    path.write_bytes(b"this is not an SQLite file, not even its header" * 100)
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"sqlite://{path}")
    assert caught.value.location == str(path)
    assert caught.value.detail.startswith("SQLITE_NOTADB: ")


def test_a_folder_in_place_of_the_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    path.mkdir()
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"sqlite://{path}")
    assert caught.value.detail.startswith("SQLITE_CANTOPEN: ")


def test_events_cannot_be_changed_or_removed_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with SQLiteEventStore(path) as store:
        store.append("s", [new_event(i=1)])
    raw = sqlite3.connect(path)
    for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError) as caught:
            raw.execute(statement)
        assert caught.value.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_TRIGGER
    raw.close()
