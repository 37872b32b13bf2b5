"""Read connections to one SQLite file: one per thread, all closed together.

A :mod:`sqlite3` connection may be used by one thread at a time, and the embedded store's
writer connection is held under its write lock; reads go on a connection of the reading
thread's own, so they never wait for a writer (WAL lets readers run beside it) and each
sees the last committed state when its statement starts.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class ThreadReaders:
    """Opens, on first use in each thread, a read-only connection to ``path``.

    :meth:`close` closes every connection it opened, from any thread; a connection of a
    thread that has ended is closed when another thread opens its own.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._mine = threading.local()
        self._lock = threading.Lock()
        self._open: dict[threading.Thread, sqlite3.Connection] = {}
        self._closed = False

    def get(self) -> sqlite3.Connection:
        """Return the calling thread's connection, opening it the first time.

        Raises :class:`sqlite3.Error` if the file cannot be opened, and
        :class:`sqlite3.ProgrammingError` once :meth:`close` was called, as a closed
        connection does.
        """
        db: sqlite3.Connection | None = getattr(self._mine, "db", None)
        if db is not None:
            return db
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        db = sqlite3.connect(
            self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA query_only=ON")
        with self._lock:
            for thread in [t for t in self._open if not t.is_alive()]:
                self._open.pop(thread).close()
            self._open[threading.current_thread()] = db
        self._mine.db = db
        return db

    def close(self) -> None:
        """Close every connection opened so far; any later :meth:`get` raises."""
        with self._lock:
            self._closed = True
            opened, self._open = list(self._open.values()), {}
            self._mine = threading.local()
        for db in opened:
            db.close()
