"""``append_batched`` and ``append_single``: events/s through the store beside the raw driver.

The workload is cut into rounds; each round is appended through the store and then
written raw (pymongo ``insert_many``/``insert_one`` into a plain collection, or
``sqlite3`` ``executemany``/``execute`` into a plain table, one transaction per call) on
the same file or server, so both sides see the same load from the rest of the machine.
The raw side builds each row or document as it writes it, encoding the payload and the metadata once
with the standard ``json`` module (the stored form is JSON text on both stores) and
nothing else: no checks, no lookups, no index.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bench.backends import Place, mongo_client, raw_collection, raw_sqlite
from bench.figures import Figure
from cirec.config import open_store
from eventstore.clock import to_epoch_millis
from eventstore.codec import json_converter
from eventstore.records import ANY, NewEvent
from tools.workload import Append

ROUNDS = 4
RAW_TABLE = "raw_events"
_RAW_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {RAW_TABLE} (
    position INTEGER PRIMARY KEY, event_id TEXT, stream_id TEXT, stream_version INTEGER,
    type TEXT, schema_version INTEGER, occurred_at INTEGER, recorded_at INTEGER,
    data TEXT, metadata TEXT)"""

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
        call = "insert_many" if place.store == "mongo" else "executemany"
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
    counter = iter(range(1, 1 << 62))
    if place.store == "sqlite":
        db = raw_sqlite(place)
        db.execute(_RAW_SCHEMA)
        insert = f"INSERT INTO {RAW_TABLE} VALUES (?,?,?,?,?,?,?,?,?,?)"  # noqa: S608 -- constant

        def sqlite_many(appends: Sequence[Append]) -> Callable[[], None]:
            def run() -> None:
                for a in appends:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(insert, [_row(a, e, next(counter)) for e in a.events])
                    db.execute("COMMIT")

            return run

        def sqlite_one(appends: Sequence[Append]) -> Callable[[], None]:
            def run() -> None:
                for a in appends:
                    db.execute(insert, _row(a, a.events[0], next(counter)))

            return run

        return sqlite_many, sqlite_one, db.close

    client = mongo_client(place)
    collection = raw_collection(client, place, RAW_TABLE)

    def mongo_many(appends: Sequence[Append]) -> Callable[[], None]:
        def run() -> None:
            for a in appends:
                collection.insert_many([_document(a, e, next(counter)) for e in a.events])

        return run

    def mongo_one(appends: Sequence[Append]) -> Callable[[], None]:
        def run() -> None:
            for a in appends:
                collection.insert_one(_document(a, a.events[0], next(counter)))

        return run

    return mongo_many, mongo_one, client.close


def _row(append: Append, event: NewEvent, position: int) -> tuple[Any, ...]:
    """Return the row the embedded store would write for ``event``."""
    return (
        position,
        str(event.event_id),
        append.stream_id,
        position,
        event.type,
        event.schema_version,
        to_epoch_millis(event.occurred_at),
        to_epoch_millis(datetime.now(UTC)),
        json.dumps(event.data, ensure_ascii=False),
        json.dumps(json_converter.unstructure(event.metadata)),
    )


def _document(append: Append, event: NewEvent, position: int) -> dict[str, Any]:
    """Return a plain document of the same fields and sizes as a stored event."""
    return {
        "_id": position,
        "event_id": str(event.event_id),
        "stream_id": append.stream_id,
        "stream_version": position,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at,
        "recorded_at": datetime.now(UTC),
        "data": json.dumps(event.data, ensure_ascii=False),
        "metadata": json_converter.unstructure(event.metadata),
    }
