"""One SQLite file, opened the way every embedded store of cirec opens it.

WAL (readers never block the writer), ``synchronous=FULL`` (an acknowledged write
survives a power cut, not just a crash), autocommit with explicit transactions, and a
writer that waits for another process's write lock before giving up. Every SQLite error
leaves as a :class:`~eventstore.errors.StoreError`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eventstore.errors import StoreError, StoreUnavailableError
from eventstore.stored import StoredFormError

BACKEND = "sqlite"
# How long a writer waits for another process's write lock before giving up.
LOCK_TIMEOUT_SECONDS = 60.0


class SQLiteFile:
    """The connection and transactions a store on one SQLite file shares (a mixin)."""

    path: Path
    _db: sqlite3.Connection

    def _open(self, path: str | Path, schema: str) -> None:
        """Open (creating if missing) the file at ``path`` and apply ``schema`` to it."""
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None
            )
            self._enter_wal_mode()
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(schema)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailableError(BACKEND, str(self.path), str(exc)) from exc

    def _enter_wal_mode(self) -> None:
        """Switch the file to WAL, waiting out other connections doing the same.

        Switching needs an exclusive lock, and SQLite answers "database is locked" at
        once, without calling the busy handler, while another connection opens the same
        fresh file; so this waits here, within the same limit as any other lock.
        """
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        pause = 0.001
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        """Raise any SQLite error inside, or an unreadable stored row, as a :class:`StoreError`."""
        try:
            yield
        except (sqlite3.Error, StoredFormError) as exc:
            raise StoreError(BACKEND, operation, f"{type(exc).__name__}: {exc}") from exc

    @contextmanager
    def _read_transaction(self) -> Iterator[None]:
        """Hold one read snapshot of the file for the statements inside."""
        self._db.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the file's write lock; commit at the end, roll back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            # SQLite may already have rolled back (e.g. disk full); don't mask the cause.
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection to the file."""
        self._db.close()
