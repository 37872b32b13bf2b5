"""The embedded event store: one SQLite file, no server, safe across threads and processes.

Every append runs in a ``BEGIN IMMEDIATE`` transaction, which takes SQLite's single
write lock: the idempotency check, the version check and the inserts see one state and
commit together, and positions are ``MAX(position) + 1`` under that lock, so they have no
gaps and become visible in order. Triggers refuse any UPDATE or DELETE of an event.

Threads: one store object may be shared by any number of threads. Its one writer
connection is used only under the store's writer lock; appends that arrive while another
thread holds it wait in a queue, and the next thread to take the lock commits all of them
in one transaction, each judged alone in arrival order
(:mod:`~eventstore.adapters.sqlite_append`). Reads go on a connection of the reading
thread's own (:mod:`~eventstore.adapters.sqlite_readers`), which WAL lets run beside the
writer. Across processes SQLite's write lock serialises the writers, each waiting in
its busy handler as long as :data:`~.sqlite_file.LOCK_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventstore import arguments
from eventstore.adapters.sqlite_append import HEAD, VERSION, PendingAppend, write_group
from eventstore.adapters.sqlite_file import BACKEND, LOCK_TIMEOUT_SECONDS, SQLiteFile, translate
from eventstore.adapters.sqlite_readers import ThreadReaders
from eventstore.adapters.sqlite_wakeup import Listener, Notifier
from eventstore.appending import check_call
from eventstore.clock import to_epoch_millis, utc_now
from eventstore.errors import CirecError
from eventstore.records import ANY, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from eventstore.store import DEFAULT_BATCH_SIZE, EventStore
from eventstore.stored import EVENT_COLUMNS, from_row, to_recorded, unplaced_rows
from eventstore.wakeup import LOOK_EVERY_SECONDS, Wakeup

MAX_GROUP = 256
"""The most waiting appends one transaction takes; the rest go in the next."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position        INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    data            TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE TRIGGER IF NOT EXISTS events_are_immutable BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable'); END;
CREATE TRIGGER IF NOT EXISTS events_are_append_only BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
"""

_COLUMNS = ", ".join(EVENT_COLUMNS)
_READ_ALL = f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"  # noqa: S608 -- constant column list
_READ_STREAM = (
    f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND stream_version > ?"  # noqa: S608 -- constant column list
    " ORDER BY stream_version LIMIT ?"
)
_READ_EVENT = f"SELECT {_COLUMNS} FROM events WHERE event_id = ?"  # noqa: S608 -- constant column list


class SQLiteEventStore(SQLiteFile, EventStore):
    """The embedded :class:`EventStore` on one SQLite file (created if missing).

    Safe to share between threads (see the module docs); :meth:`close` closes the writer
    connection and every thread's read connection, after the append in progress.
    """

    backend = BACKEND

    def __init__(self, path: str | Path) -> None:
        self._open(path, _SCHEMA, any_thread=True)
        self._writer = threading.Lock()
        self._queue: deque[PendingAppend] = deque()
        self._readers = ThreadReaders(self.path, LOCK_TIMEOUT_SECONDS)
        self._notifier = Notifier(self.path)

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> AppendResult:
        """Append atomically under SQLite's write lock; see :meth:`EventStore.append`.

        Appends from other threads that wait meanwhile may be committed in the same
        transaction; each is judged exactly as if it ran alone, and a refused one fails
        only its own caller.
        """
        expected, payloads = check_call(stream_id, events, expected_version)
        pending = PendingAppend(stream_id, events, expected, unplaced_rows(events, payloads))
        self._queue.append(pending)
        with self._writer:
            if not pending.done:
                # Every append taken from the queue is done before the lock is released,
                # so an append not done yet is still queued: this thread writes the group.
                self._write_queued()
                # The group's transaction has committed (or failed) here.
        if pending.error is None and pending.result is not None:
            return pending.result
        if isinstance(pending.error, CirecError):
            raise pending.error
        if isinstance(pending.error, sqlite3.Error):
            raise translate(pending.error, "append", str(self.path)) from pending.error
        raise RuntimeError("the append's group failed") from pending.error

    def _write_queued(self) -> None:
        """Commit the waiting appends, at most :data:`MAX_GROUP`, and tell the followers."""
        group = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_GROUP))]
        if write_group(self._db, group, to_epoch_millis(utc_now())):
            self._notifier.notify(_new_head(group))

    def wakeup(self, look_every: float = LOOK_EVERY_SECONDS) -> Wakeup:
        """Return a follower's wake-up, woken by appends on this machine; see the port."""
        return Wakeup(self.head, look_every, Listener.open(self.path))

    def read_all(
        self, after: int = 0, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[RecordedEvent]:
        """Return the log after ``after``, read in batches of ``batch_size``; see the port."""
        after = arguments.position("after", after)
        batch_size = arguments.batch_size(batch_size)
        return self._paged(_READ_ALL, (), after, batch_size, key=_position)

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> Iterator[RecordedEvent]:
        """Return the events of ``stream_id`` after ``after_version``; see the port."""
        stream_id = arguments.stream_id(stream_id)
        after_version = arguments.position("after_version", after_version)
        return self._paged(
            _READ_STREAM, (stream_id,), after_version, DEFAULT_BATCH_SIZE, key=_stream_version
        )

    def _paged(
        self,
        query: str,
        prefix: tuple[Any, ...],
        after: int,
        batch_size: int,
        *,
        key: Callable[[RecordedEvent], int],
    ) -> Iterator[RecordedEvent]:
        """Run ``query`` page by page, each page starting after the last ``key`` seen."""
        while True:
            with self._translated("read"):
                rows = self._readers.get().execute(query, (*prefix, after, batch_size)).fetchall()
                events = [to_recorded(from_row(row)) for row in rows]
            for event in events:
                after = key(event)
                yield event
            if len(rows) < batch_size:
                return

    def read_event(self, event_id: UUID) -> RecordedEvent | None:
        """Return the event stored under ``event_id`` (its unique column), or None."""
        event_id = arguments.event_id(event_id)
        with self._translated("read"):
            row = self._readers.get().execute(_READ_EVENT, (str(event_id),)).fetchone()
            return None if row is None else to_recorded(from_row(row))

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in ``stream_id``."""
        stream_id = arguments.stream_id(stream_id)
        with self._translated("stream_version"):
            row = self._readers.get().execute(VERSION, (stream_id,)).fetchone()
            return int(row[0] or 0)

    def head(self) -> int:
        """Return the last position of the log."""
        with self._translated("head"):
            return int(self._readers.get().execute(HEAD).fetchone()[0] or 0)

    def close(self) -> None:
        """Close the writer connection, after the append in progress, and every reader's."""
        with self._writer:
            self._readers.close()
            super().close()


def _position(event: RecordedEvent) -> int:
    return event.position


def _stream_version(event: RecordedEvent) -> int:
    return event.stream_version


def _new_head(group: list[PendingAppend]) -> int:
    """Return the log's head after ``group``: the last position one of its appends stored."""
    return max(
        pending.result.positions[-1]
        for pending in group
        if pending.result is not None and not pending.result.already_stored
    )
