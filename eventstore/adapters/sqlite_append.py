"""One write transaction of the embedded store: the appends of a group, each judged alone.

The appends that wait for the store's writer while another holds it are committed
together, in one ``BEGIN IMMEDIATE`` transaction and one fsync (:func:`write_group`).
Each is judged in turn against the state the ones before it in the group left, exactly
as if it ran alone in that order: its ids, its expected version, its positions from the
head they left. A refused append (a conflict, a duplicate) stores nothing and fails only
its own caller.

Statements per append under the lock: the stream's version and the log's head in one
statement (within a group the head is read once, and each stream's version once), then
the insert, which the ``UNIQUE(event_id)`` constraint refuses for a stored id; only then,
or when the expected version is not met, are the call's ids looked up, to tell a retry
(returned, whatever the expected version) from a duplicate, exactly as
:func:`~eventstore.appending.already_stored` decides. One ``INSERT`` of one row stores
all or nothing by itself; the ``executemany`` of several rows runs inside a
``SAVEPOINT``, since one that fails at its k-th row keeps the k - 1 before it: rolling
back to the savepoint takes back only that append's rows.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from uuid import UUID

from attrs import define, field

from eventstore.appending import StoredId, already_stored, check_version
from eventstore.errors import CirecError
from eventstore.records import AppendResult, ExpectedVersion, NewEvent, expectation_met
from eventstore.stored import EVENT_COLUMNS, UnplacedRow, placed_rows

# SQLite caps the number of bound parameters in one statement.
_IN_CHUNK = 500
_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)})"  # noqa: S608 -- constant column list
    f" VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
VERSION = "SELECT MAX(stream_version) FROM events WHERE stream_id = ?"
HEAD = "SELECT MAX(position) FROM events"
_VERSION_AND_HEAD = f"SELECT ({VERSION}), ({HEAD})"


@define(eq=False)
class PendingAppend:
    """One append waiting for the writer: its call, then what became of it."""

    stream_id: str
    events: Sequence[NewEvent]
    expected: ExpectedVersion
    rows: list[UnplacedRow]
    result: AppendResult | None = None
    error: BaseException | None = None
    """A refusal (:class:`CirecError`) or the :class:`sqlite3.Error` that failed it."""
    done: bool = False


@define
class _Tail:
    """What the group's transaction knows of the log so far: its head, streams' versions."""

    head: int | None = None
    versions: dict[str, int] = field(factory=dict)


def write_group(db: sqlite3.Connection, group: Sequence[PendingAppend], recorded_at: int) -> int:
    """Append ``group`` in one transaction on ``db``; mark each done; return events stored.

    ``recorded_at`` is the store's clock (epoch milliseconds) for every event of the group.
    A failure of the transaction itself (its ``BEGIN``, its ``COMMIT``, or an error after
    which SQLite rolled it back) fails every append of the group not refused already,
    with that error: none of them is stored.
    """
    grouped = len(group) > 1
    try:
        db.execute("BEGIN IMMEDIATE")
        tail = _Tail()
        for pending in group:
            try:
                pending.result = _append(db, tail, pending, recorded_at)
            except CirecError as refused:  # refused before any insert: nothing to undo
                pending.error = refused
            except Exception as exc:
                if not grouped or not db.in_transaction:
                    raise  # the transaction is lost: the whole group fails below
                pending.error = exc  # its rows were taken back (_append): only it fails
        db.execute("COMMIT")
    except BaseException as exc:
        # SQLite may already have rolled back (e.g. disk full), or the connection be
        # closed: don't mask the cause.
        with contextlib.suppress(sqlite3.ProgrammingError):
            if db.in_transaction:
                db.execute("ROLLBACK")
        for pending in group:
            if pending.error is None:
                pending.result, pending.error = None, exc
            pending.done = True
        return 0
    for pending in group:
        pending.done = True
    return sum(len(p.rows) for p in group if p.result is not None and not p.result.already_stored)


def _append(
    db: sqlite3.Connection, tail: _Tail, pending: PendingAppend, recorded_at: int
) -> AppendResult:
    """Judge and insert one append; return its result or raise its refusal."""
    stream_id, events, expected = pending.stream_id, pending.events, pending.expected
    version, head = _version_and_head(db, tail, stream_id)
    if not expectation_met(expected, version):
        # A retry is answered whatever the expected version: look before refusing.
        retry = already_stored(stream_id, events, stored_ids(db, events))
        if retry is not None:
            return retry
        check_version(stream_id, expected, version)
    rows = placed_rows(
        stream_id,
        pending.rows,
        first_position=head + 1,
        first_version=version + 1,
        recorded_at=recorded_at,
    )
    if len(rows) == 1:
        try:
            db.execute(_INSERT, rows[0])  # one statement: refused, it stores nothing
        except sqlite3.IntegrityError:
            retry = already_stored(stream_id, events, stored_ids(db, events))
            if retry is None:
                raise
            return retry
    else:
        db.execute("SAVEPOINT its_rows")
        try:
            db.executemany(_INSERT, rows)
        except sqlite3.Error as exc:
            if db.in_transaction:  # take back the rows before the failed one
                db.execute("ROLLBACK TO its_rows")
                db.execute("RELEASE its_rows")
            retry = None
            if isinstance(exc, sqlite3.IntegrityError):
                retry = already_stored(stream_id, events, stored_ids(db, events))
            if retry is None:
                raise
            return retry
        db.execute("RELEASE its_rows")
    tail.head = head + len(rows)
    tail.versions[stream_id] = version + len(rows)
    return AppendResult(
        positions=tuple(range(head + 1, head + len(rows) + 1)),
        stream_version=version + len(rows),
    )


def _version_and_head(db: sqlite3.Connection, tail: _Tail, stream_id: str) -> tuple[int, int]:
    """Return the stream's version and the log's head, reading only what the group lacks."""
    version = tail.versions.get(stream_id)
    if tail.head is None:
        known, head = db.execute(_VERSION_AND_HEAD, (stream_id,)).fetchone()
        tail.head = int(head or 0)
        if version is None:
            version = int(known or 0)
    elif version is None:
        version = int(db.execute(VERSION, (stream_id,)).fetchone()[0] or 0)
    tail.versions[stream_id] = version
    return version, tail.head


def stored_ids(db: sqlite3.Connection, events: Sequence[NewEvent]) -> dict[UUID, StoredId]:
    """Return where each of the events' ids that is stored already lives."""
    ids = [str(event.event_id) for event in events]
    found: dict[UUID, StoredId] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        columns = "event_id, stream_id, position, stream_version"
        query = f"SELECT {columns} FROM events WHERE event_id IN ({marks})"  # noqa: S608 -- placeholders only
        for event_id, stream, position, version in db.execute(query, chunk):
            found[UUID(event_id)] = StoredId(
                stream_id=stream, position=position, stream_version=version
            )
    return found
