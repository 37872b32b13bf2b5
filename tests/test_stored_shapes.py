"""The stored shapes, pinned: what each store writes for an append, field by field and in order.

Logs written by earlier versions must stay readable, so these shapes change only with a
migration: each test writes through the store and reads the raw row or document back,
or writes the raw form by hand, as an earlier version did, and reads it through the store.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
import pymongo
import pytest

from cirec.config import open_store
from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.errors import StoreError
from eventstore.records import Metadata, NewEvent, RecordedEvent

EVENT_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
SECOND_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")
THIRD_ID = uuid.UUID("00000000-0000-4000-8000-000000000003")
CORRELATION = uuid.UUID("00000000-0000-4000-8000-0000000000c0")
OCCURRED = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
OCCURRED_MS = 1714979289123
DATA = {"name": "déploiement", "nested": [[1, 2], {"$where": "x", "a.b": None}], "f": 1.5}
DATA_TEXT = '{"name":"déploiement","nested":[[1,2],{"$where":"x","a.b":null}],"f":1.5}'
METADATA = Metadata(correlation_id=CORRELATION, causation_id=None, actor="ci-engine")
METADATA_TEXT = (
    '{"correlation_id":"00000000-0000-4000-8000-0000000000c0","causation_id":null,'
    '"actor":"ci-engine"}'
)
METADATA_DOCUMENT = {
    "correlation_id": "00000000-0000-4000-8000-0000000000c0",
    "causation_id": None,
    "actor": "ci-engine",
}
SQLITE_COLUMNS = [
    "position",
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "data",
    "metadata",
]
DATA_DOCUMENT = {
    "name": "déploiement",
    "nested": [{"%a": [1, 2]}, {"%24where": "x", "a%2Eb": None}],
    "f": 1.5,
}
COMMIT_FIELDS = [
    "_id",
    "first",
    "last",
    "stream_id",
    "first_version",
    "last_version",
    "recorded_at",
    "log_to",
    "stream_to",
    "events",
]
COMMIT_EVENT_FIELDS = [
    "position",
    "stream_version",
    "event_id",
    "type",
    "schema_version",
    "occurred_at",
    "data",
    "metadata",
]


def first_event(**changes: Any) -> NewEvent:
    fields: dict[str, Any] = {
        "event_id": EVENT_ID,
        "type": "StageStarted",
        "schema_version": 2,
        "occurred_at": OCCURRED,
        "data": DATA,
        "metadata": METADATA,
    }
    return NewEvent(**(fields | changes))


def expected_recorded(event: NewEvent, position: int, recorded_at: datetime) -> RecordedEvent:
    return RecordedEvent(
        event_id=event.event_id,
        type=event.type,
        schema_version=event.schema_version,
        occurred_at=event.occurred_at,
        data=event.data,
        metadata=event.metadata,
        stream_id="s",
        stream_version=position,
        position=position,
        recorded_at=recorded_at,
    )


def test_the_embedded_store_writes_one_row_per_event_in_these_columns(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    with SQLiteEventStore(path) as store:
        store.append("s", [first_event()])
    raw = sqlite3.connect(path)
    try:
        columns = [row[1] for row in raw.execute("PRAGMA table_info(events)")]
        (row,) = raw.execute("SELECT * FROM events").fetchall()
    finally:
        raw.close()
    assert columns == SQLITE_COLUMNS
    recorded = row[7]
    assert row == (
        1,
        str(EVENT_ID),
        "s",
        1,
        "StageStarted",
        2,
        OCCURRED_MS,
        recorded,
        DATA_TEXT,
        METADATA_TEXT,
    )
    assert type(recorded) is int
    assert abs(recorded - datetime.now(UTC).timestamp() * 1000) < 60_000


def test_a_row_as_earlier_versions_wrote_it_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    SQLiteEventStore(path).close()  # the schema
    raw = sqlite3.connect(path)
    with raw:
        raw.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                1,
                str(EVENT_ID),
                "s",
                1,
                "StageStarted",
                2,
                OCCURRED_MS,
                OCCURRED_MS + 1,
                DATA_TEXT,
                METADATA_TEXT,
            ),
        )
    raw.close()
    with SQLiteEventStore(path) as store:
        (stored,) = store.read_all()
    recorded_at = datetime(2024, 5, 6, 7, 8, 9, 124000, tzinfo=UTC)
    assert stored == expected_recorded(first_event(), 1, recorded_at)


def raw_commits(url: str) -> list[dict[str, Any]]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    with client:
        return list(client.get_default_database()["events"].find({}, sort=[("_id", 1)]))


def test_mongodb_writes_one_commit_document_per_append_in_this_shape(mongo_url: str) -> None:
    second = first_event(event_id=SECOND_ID, metadata=Metadata(), data={})
    with open_store(mongo_url) as store:
        store.append("s", [first_event(), second])
        store.append("t", [first_event(event_id=THIRD_ID, data={})])
    commit, other = raw_commits(mongo_url)
    assert list(commit) == COMMIT_FIELDS
    assert [list(event) for event in commit["events"]] == [COMMIT_EVENT_FIELDS] * 2
    assert list(commit["events"][0]["metadata"]) == list(METADATA_DOCUMENT)
    recorded = commit["recorded_at"]
    assert isinstance(recorded, datetime)
    assert abs((recorded - datetime.now(UTC)).total_seconds()) < 60
    size = len(bson.encode(commit | {"log_to": 0, "stream_to": 0}))
    assert commit == {
        "_id": "00000000000000000001",
        "first": 1,
        "last": 2,
        "stream_id": "s",
        "first_version": 1,
        "last_version": 2,
        "recorded_at": recorded,
        "log_to": size,
        "stream_to": size,
        "events": [
            {
                "position": 1,
                "stream_version": 1,
                "event_id": str(EVENT_ID),
                "type": "StageStarted",
                "schema_version": 2,
                "occurred_at": OCCURRED,
                "data": DATA_DOCUMENT,
                "metadata": METADATA_DOCUMENT,
            },
            {
                "position": 2,
                "stream_version": 2,
                "event_id": str(SECOND_ID),
                "type": "StageStarted",
                "schema_version": 2,
                "occurred_at": OCCURRED,
                "data": {},
                "metadata": {"correlation_id": None, "causation_id": None, "actor": None},
            },
        ],
    }
    # The byte totals run on across the log, and start again in each stream.
    other_size = len(bson.encode(other | {"log_to": 0, "stream_to": 0}))
    assert (other["_id"], other["log_to"], other["stream_to"]) == (
        "00000000000000000003",
        size + other_size,
        other_size,
    )


def test_a_log_in_the_earlier_layout_is_refused_and_left_as_it_is(mongo_url: str) -> None:
    earlier = {
        "_id": "00000000000000000001",
        "first": 1,
        "last": 1,
        "stream_id": "s",
        "first_version": 1,
        "last_version": 1,
        "recorded_at": datetime(2024, 5, 6, 7, 8, 9, 124000, tzinfo=UTC),
        "event_ids": [str(EVENT_ID)],
        "events": [
            {
                "event_id": str(EVENT_ID),
                "type": "StageStarted",
                "schema_version": 2,
                "occurred_at": OCCURRED,
                "data": DATA_TEXT,
                "metadata": METADATA_DOCUMENT,
            }
        ],
    }
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_url, tz_aware=True)
    with client:
        client.get_default_database()["events"].insert_one(earlier)
    with pytest.raises(StoreError) as caught:
        open_store(mongo_url)
    assert "earlier layout" in caught.value.detail
    assert raw_commits(mongo_url) == [earlier]


@pytest.mark.parametrize(
    ("occurred_at", "data", "metadata"),
    [
        (0, "not json", "{}"),
        (0, "[1]", "{}"),  # read back unvalidated, but a payload must still be an object
        (0, '{"x": NaN}', "{}"),
        ("yesterday", "{}", "{}"),
        (0, "{}", '{"actor": 5}'),
    ],
)
def test_an_unreadable_row_is_a_store_error(
    tmp_path: Path, occurred_at: object, data: str, metadata: str
) -> None:
    path = tmp_path / "e.sqlite3"
    SQLiteEventStore(path).close()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute(
            "INSERT INTO events VALUES (1, ?, 's', 1, 'T', 1, ?, 0, ?, ?)",
            (str(EVENT_ID), occurred_at, data, metadata),
        )
    raw.close()
    with SQLiteEventStore(path) as store, pytest.raises(StoreError) as caught:
        list(store.read_all())
    assert (caught.value.backend, caught.value.operation) == ("sqlite", "read")
    assert "position 1" in caught.value.detail


def test_an_unreadable_commit_is_a_store_error(mongo_url: str) -> None:
    with open_store(mongo_url) as store:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_url)
        with client:
            client.get_default_database()["events"].insert_one(
                {"_id": "00000000000000000001", "first": 1, "last": 1, "stream_id": "s"}
            )
        with pytest.raises(StoreError) as caught:
            list(store.read_all())
    assert (caught.value.backend, caught.value.operation) == ("mongodb", "read")
    assert "00000000000000000001" in caught.value.detail
