"""One SQLite file, opened the way every embedded store of cirec opens it.

WAL (readers never block the writer), ``synchronous=FULL`` (an acknowledged write
survives a power cut, not just a crash), autocommit with explicit transactions, and a
writer that waits for another process's write lock before giving up. Every SQLite error
leaves as a :class:`~eventstore.errors.StoreError`, classified by SQLite's result code
(:func:`translate`), never by its message.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from eventstore.errors import StoreError, StoreUnavailableError
from eventstore.stored import StoredFormError

BACKEND = "sqlite"
# How long a writer waits for another process's write lock before giving up.
LOCK_TIMEOUT_SECONDS = 60.0

LOCK_CONTENTION: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
"""Primary result codes that say another connection (or statement) holds a lock."""
UNAVAILABLE: Final = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_PERM}
)
"""Primary result codes that say the file itself cannot be used: the store is unavailable."""
TRANSIENT: Final = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR}
)
"""Primary result codes that may pass by themselves: a lock held elsewhere, a full disk,
an I/O error of the operating system."""
MEANINGS: Final[Mapping[int, str]] = {
    sqlite3.SQLITE_BUSY: "the file is locked by another connection",
    sqlite3.SQLITE_LOCKED: "a table is locked by another statement on this connection",
    sqlite3.SQLITE_FULL: "the disk is full, or the file reached its size limit",
    sqlite3.SQLITE_READONLY: "the file cannot be written",
    sqlite3.SQLITE_IOERR: "the operating system reported an I/O error",
    sqlite3.SQLITE_CONSTRAINT: "a constraint refused the write",
    sqlite3.SQLITE_CANTOPEN: "the file cannot be opened",
    sqlite3.SQLITE_NOTADB: "the file is not an SQLite database",
    sqlite3.SQLITE_CORRUPT: "the file is damaged",
    sqlite3.SQLITE_PERM: "access to the file is denied",
}
"""What each primary result code means for a store, in a message."""


def primary_code(exc: sqlite3.Error) -> int | None:
    """Return SQLite's primary result code of ``exc`` (None if SQLite did not raise it).

    Python 3.11 sets ``sqlite_errorcode`` to the extended code, whose low 8 bits are the
    primary one (``SQLITE_BUSY_SNAPSHOT`` is a kind of ``SQLITE_BUSY``).
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_lock_contention(exc: sqlite3.Error) -> bool:
    """Tell whether ``exc`` says a lock is held elsewhere, so waiting may cure it."""
    return primary_code(exc) in LOCK_CONTENTION


def describe(exc: sqlite3.Error) -> str:
    """Return a message for ``exc``: its code's name and meaning, then SQLite's own text."""
    code = primary_code(exc)
    name = getattr(exc, "sqlite_errorname", None)
    if code is None or code not in MEANINGS or not isinstance(name, str):
        return f"{type(exc).__name__}: {exc}"
    return f"{name}: {MEANINGS[code]} ({type(exc).__name__}: {exc})"


def translate(exc: sqlite3.Error, operation: str, location: str) -> StoreError:
    """Return the :class:`StoreError` that reports ``exc`` raised during ``operation``.

    A file that cannot be used at all (:data:`UNAVAILABLE`) gives a
    :class:`StoreUnavailableError` naming ``location``, not transient: a person must
    look at it; anything else a plain :class:`StoreError`, ``transient`` for the codes
    of :data:`TRANSIENT`.
    """
    code = primary_code(exc)
    if code in UNAVAILABLE:
        return StoreUnavailableError(BACKEND, location, describe(exc), transient=False)
    return StoreError(BACKEND, operation, describe(exc), transient=code in TRANSIENT)


class SQLiteFile:
    """The connection and transactions a store on one SQLite file shares (a mixin)."""

    path: Path
    _db: sqlite3.Connection

    def _open(self, path: str | Path, schema: str, *, any_thread: bool = False) -> None:
        """Open (creating if missing) the file at ``path`` and apply ``schema`` to it.

        ``any_thread`` lets threads other than this one use the connection: the caller
        then makes sure only one uses it at a time (``sqlite3`` refuses it otherwise).
        """
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path,
                timeout=LOCK_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=not any_thread,
            )
            self._enter_wal_mode()
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(schema)
        except sqlite3.Error as exc:
            transient = primary_code(exc) in TRANSIENT
            raise StoreUnavailableError(
                BACKEND, str(self.path), describe(exc), transient=transient
            ) from exc
        except OSError as exc:
            transient = exc.errno == errno.ENOSPC
            raise StoreUnavailableError(
                BACKEND, str(self.path), str(exc), transient=transient
            ) from exc

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
                if not is_lock_contention(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        """Raise any SQLite error inside, or an unreadable stored row, as a :class:`StoreError`.

        The error is classified by its result code, as :func:`translate` says.
        """
        try:
            yield
        except sqlite3.Error as exc:
            raise translate(exc, operation, str(self.path)) from exc
        except StoredFormError as exc:
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
