"""The embedded event store: one SQLite file, no server, safe across processes.

Every append runs in one ``BEGIN IMMEDIATE`` transaction, which takes SQLite's single
write lock: the idempotency check, the version check and the inserts see one state and
commit together, and positions are ``MAX(position) + 1`` under that lock, so they have no
gaps and become visible in order. Triggers refuse any UPDATE or DELETE of an event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventstore import arguments
from eventstore.adapters.sqlite_file import BACKEND, SQLiteFile
from eventstore.adapters.sqlite_wakeup import Listener, Notifier
from eventstore.appending import (
    StoredId,
    already_stored,
    check_call,
    check_version,
)
from eventstore.clock import utc_now
from eventstore.records import ANY, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from eventstore.store import DEFAULT_BATCH_SIZE, EventStore
from eventstore.stored import EVENT_COLUMNS, appended, from_row, to_recorded, to_row
from eventstore.wakeup import LOOK_EVERY_SECONDS, Wakeup

# SQLite caps the number of bound parameters in one statement.
_IN_CHUNK = 500

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
_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"  # noqa: S608 -- constant column list


class SQLiteEventStore(SQLiteFile, EventStore):
    """The embedded :class:`EventStore` on one SQLite file (created if missing)."""

    backend = BACKEND

    def __init__(self, path: str | Path) -> None:
        self._open(path, _SCHEMA)
        self._notifier = Notifier(self.path)

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> AppendResult:
        """Append atomically under SQLite's write lock; see :meth:`EventStore.append`."""
        expected, payloads = check_call(stream_id, events, expected_version)
        with self._translated("append"), self._write_transaction() as db:
            retry = already_stored(stream_id, events, self._stored_ids(events))
            if retry is not None:
                return retry
            version = self._stream_version(stream_id)
            check_version(stream_id, expected, version)
            head = self._head()
            stored = appended(
                stream_id,
                events,
                payloads,
                first_position=head + 1,
                first_version=version + 1,
                recorded_at=utc_now(),
            )
            db.executemany(_INSERT, [to_row(event) for event in stored])
        self._notifier.notify(head + len(events))
        return AppendResult(
            positions=tuple(range(head + 1, head + len(events) + 1)),
            stream_version=version + len(events),
        )

    def wakeup(self, look_every: float = LOOK_EVERY_SECONDS) -> Wakeup:
        """Return a follower's wake-up, woken by appends on this machine; see the port."""
        return Wakeup(self.head, look_every, Listener.open(self.path))

    def _stored_ids(self, events: Sequence[NewEvent]) -> dict[UUID, StoredId]:
        ids = [str(event.event_id) for event in events]
        found: dict[UUID, StoredId] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            columns = "event_id, stream_id, position, stream_version"
            query = f"SELECT {columns} FROM events WHERE event_id IN ({marks})"  # noqa: S608 -- placeholders only
            rows = self._db.execute(query, chunk)
            for event_id, stream, position, version in rows:
                found[UUID(event_id)] = StoredId(
                    stream_id=stream, position=position, stream_version=version
                )
        return found

    def _stream_version(self, stream_id: str) -> int:
        row = self._db.execute(
            "SELECT MAX(stream_version) FROM events WHERE stream_id = ?", (stream_id,)
        ).fetchone()
        return int(row[0] or 0)

    def _head(self) -> int:
        row = self._db.execute("SELECT MAX(position) FROM events").fetchone()
        return int(row[0] or 0)

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
                rows = self._db.execute(query, (*prefix, after, batch_size)).fetchall()
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
            row = self._db.execute(_READ_EVENT, (str(event_id),)).fetchone()
            return None if row is None else to_recorded(from_row(row))

    def stream_version(self, stream_id: str) -> int:
        """Return the number of events in ``stream_id``."""
        stream_id = arguments.stream_id(stream_id)
        with self._translated("stream_version"):
            return self._stream_version(stream_id)

    def head(self) -> int:
        """Return the last position of the log."""
        with self._translated("head"):
            return self._head()


def _position(event: RecordedEvent) -> int:
    return event.position


def _stream_version(event: RecordedEvent) -> int:
    return event.stream_version
