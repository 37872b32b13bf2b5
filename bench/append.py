"""``append_batched`` and ``append_single``: events/s through the store beside the raw driver.

The workload is cut into rounds; each round is appended through the store and then
written raw (pymongo ``insert_one`` of one commit document per append into a plain
collection, or ``sqlite3`` ``executemany``/``execute`` of one row per event into a plain
table, one transaction per call) on the same file or server, so both sides see the same
load from the rest of the machine. The raw side writes exactly what the store writes:
it builds each row or commit document with the store's own mapper
(:mod:`eventstore.stored`), encoding each payload once, and does nothing else: no
checks, no lookups, no index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.backends import Place, mongo_client, raw_collection, raw_sqlite
from bench.figures import Figure
from cirec.config import open_store
from eventstore.clock import utc_now
from eventstore.codec import dump_json
from eventstore.records import ANY, NewEvent
from eventstore.stored import (
    EVENT_COLUMNS,
    CommitPlace,
    StoredEvent,
    appended,
    commit_document,
    to_row,
)
from tools.workload import Append

ROUNDS = 4
RAW_TABLE = "raw_events"
# The store's columns (EVENT_COLUMNS) and types, without its constraints or triggers.
_RAW_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {RAW_TABLE} (
    position INTEGER PRIMARY KEY, event_id TEXT, stream_id TEXT, stream_version INTEGER,
    type TEXT, schema_version INTEGER, occurred_at INTEGER, recorded_at INTEGER,
    data TEXT, metadata TEXT)"""
_RAW_INSERT = f"INSERT INTO {RAW_TABLE} VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"  # noqa: S608 -- constant

Writer = Callable[[Sequence[Append]], Callable[[], None]]
"""Given a round's appends, return what the clock times."""


def singles(appends: Sequence[Append], limit: int) -> list[Append]:
    """Return the first ``limit`` events of ``appends`` as one-event appends."""
    out: list[Append] = []
    for append in appends:
        for event in append.events:
            expected = append.expected if len(append.events) == 1 else ANY
            out.append(Append(append.stream_id, (event,), expected))
            if len(out) == limit:
                return out
    return out


def measure(place: Place, appends: Sequence[Append], *, batched: bool) -> dict[str, Figure]:
    """Return ``append_batched`` (or ``append_single``) measured on ``place``.

    ``appends`` are appended as given; give one-event appends (:func:`singles`) for
    ``append_single``.
    """
    with open_store(place.url) as store:

        def ours(part: Sequence[Append]) -> Callable[[], None]:
            def run() -> None:
                for append in part:
                    store.append(append.stream_id, append.events, append.expected)

            return run

        raw_many, raw_one, close = _raw_writers(place)
        try:
            rates = _side_by_side(appends, ours, raw_many if batched else raw_one)
        finally:
            close()
    driver = "pymongo" if place.store == "mongo" else "sqlite3"
    if batched:
        call = "insert_one" if place.store == "mongo" else "executemany"
        return {"append_batched": Figure(*rates, "events/s", f"{driver} {call}")}
    call = "insert_one" if place.store == "mongo" else "execute"
    return {"append_single": Figure(*rates, "events/s", f"{driver} {call}")}


def _side_by_side(appends: Sequence[Append], ours: Writer, raw: Writer) -> tuple[float, float]:
    """Time both writers round by round over the same appends; return both rates."""
    events = sum(len(a.events) for a in appends)
    size = max(1, -(-len(appends) // ROUNDS))
    spent = [0.0, 0.0]
    for start in range(0, len(appends), size):
        part = appends[start : start + size]
        for side, writer in enumerate((ours, raw)):
            timed = writer(part)
            began = time.perf_counter()
            timed()
            spent[side] += time.perf_counter() - began
    return events / spent[0], events / spent[1]


def _raw_writers(place: Place) -> tuple[Writer, Writer, Callable[[], None]]:
    """Return the raw batched writer, the raw single writer and a closer for ``place``."""
    log = _RawLog()
    if place.store == "sqlite":
        db = raw_sqlite(place)
        db.execute(_RAW_SCHEMA)

        def sqlite_many(appends: Sequence[Append]) -> Callable[[], None]:
            def run() -> None:
                for a in appends:
                    db.execute("BEGIN IMMEDIATE")
                    rows = [to_row(e) for e in log.stored(a.stream_id, a.events)]
                    db.executemany(_RAW_INSERT, rows)
                    db.execute("COMMIT")

            return run

        def sqlite_one(appends: Sequence[Append]) -> Callable[[], None]:
            def run() -> None:
                for a in appends:
                    (event,) = log.stored(a.stream_id, a.events[:1])
                    db.execute(_RAW_INSERT, to_row(event))

            return run

        return sqlite_many, sqlite_one, db.close

    client = mongo_client(place)
    collection = raw_collection(client, place, RAW_TABLE)

    def mongo_many(appends: Sequence[Append]) -> Callable[[], None]:
        def run() -> None:
            for a in appends:
                collection.insert_one(log.commit(a.stream_id, a.events))

        return run

    def mongo_one(appends: Sequence[Append]) -> Callable[[], None]:
        def run() -> None:
            for a in appends:
                collection.insert_one(log.commit(a.stream_id, a.events[:1]))

        return run

    return mongo_many, mongo_one, client.close


class _RawLog:
    """The raw side's positions: it reads nothing, so it counts them itself."""

    def __init__(self) -> None:
        self.head = 0
        self.log_bytes = 0

    def stored(self, stream_id: str, events: Sequence[NewEvent]) -> list[StoredEvent]:
        """Return what the store would store for an append of ``events``, placed at the head.

        Each event's stream version is its position: the same size of number as the
        store's, without the lookup the store makes.
        """
        first = self.head + 1
        self.head += len(events)
        return appended(
            stream_id,
            events,
            [dump_json(event.data) for event in events],
            first_position=first,
            first_version=first,
            recorded_at=utc_now(),
        )

    def commit(self, stream_id: str, events: Sequence[NewEvent]) -> dict[str, Any]:
        """Return the commit document the store would insert for ``events`` at the head.

        As in :meth:`stored`, each stream version is the position, and the stream's byte
        total is the log's: numbers of the same size, without the store's lookups.
        """
        first = self.head + 1
        self.head += len(events)
        place = CommitPlace(
            first_position=first,
            first_version=first,
            log_from=self.log_bytes,
            stream_from=self.log_bytes,
        )
        document = commit_document(stream_id, events, place, utc_now())
        self.log_bytes = int(document["log_to"])
        return document
