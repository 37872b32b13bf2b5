"""The MongoDB store's lookup index repairs itself after a writer dies between its steps.

A writer inserts its commit and then indexes it. Killed in between, it leaves a commit the
index does not know; the next writer must still see its event ids and stream version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from cirec.config import open_store
from eventstore.adapters.mongo import MongoEventStore
from eventstore.clock import utc_now
from eventstore.codec import dump_json
from eventstore.errors import WrongExpectedVersionError
from eventstore.records import NewEvent
from eventstore.stored import appended, commit_document, commit_key
from tests.backends import drop_mongo_database, fresh_mongo_url


@pytest.fixture
def mongo_url() -> Iterator[str]:
    url = fresh_mongo_url()
    yield url
    drop_mongo_database(url)


def event() -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(), type="Probe", schema_version=1, occurred_at=utc_now(), data={}
    )


def insert_without_indexing(store: MongoEventStore, stream: str, events: list[NewEvent]) -> None:
    """Do what a writer killed right after its insert did: the commit, and nothing more."""
    head = store.head()
    version = store.stream_version(stream)
    payloads = [dump_json(e.data) for e in events]
    stored = appended(
        stream,
        events,
        payloads,
        first_position=head + 1,
        first_version=version + 1,
        recorded_at=utc_now(),
    )
    commit = commit_document(stored)
    store._insert_commit(commit)


def test_a_commit_left_unindexed_is_found_by_the_next_writer(mongo_url: str) -> None:
    orphaned = [event(), event()]
    with open_store(mongo_url) as first:
        assert isinstance(first, MongoEventStore)
        first.append("s", [event()])
        insert_without_indexing(first, "s", orphaned)
    with open_store(mongo_url) as second:
        assert second.head() == 3
        again = second.append("s", orphaned)
        assert (again.positions, again.already_stored) == ((2, 3), True)
        with pytest.raises(WrongExpectedVersionError) as caught:
            second.append("s", [event()], 1)
        assert caught.value.actual == 3
        assert second.append("s", [event()], 3).positions == (4,)
        assert [e.position for e in second.read_all()] == [1, 2, 3, 4]


def test_stream_version_counts_unindexed_commits(mongo_url: str) -> None:
    with open_store(mongo_url) as store:
        assert isinstance(store, MongoEventStore)
        insert_without_indexing(store, "s", [event()])
        insert_without_indexing(store, "t", [event(), event()])
        assert (store.stream_version("s"), store.stream_version("t"), store.head()) == (1, 2, 3)


def test_a_stale_index_never_refuses_a_right_expected_version(mongo_url: str) -> None:
    with open_store(mongo_url) as store:
        assert isinstance(store, MongoEventStore)
        store.append("s", [event()])
        insert_without_indexing(store, "s", [event(), event()])
    with open_store(mongo_url) as fresh:
        assert fresh.append("s", [event()], 3).positions == (4,)


def test_a_retry_of_a_half_indexed_commit_returns_it(mongo_url: str) -> None:
    batch = [event(), event(), event()]
    with open_store(mongo_url) as store:
        assert isinstance(store, MongoEventStore)
        insert_without_indexing(store, "s", batch)
        commit = store._events.find_one({"_id": commit_key(1)})
        assert commit is not None
        # Index the first event only, as a writer killed while indexing would have.
        store._index._events.insert_one(
            {"_id": str(batch[0].event_id), "stream_id": "s", "position": 1, "stream_version": 1}
        )
    with open_store(mongo_url) as fresh:
        again = fresh.append("s", batch)
        assert (again.positions, again.already_stored) == ((1, 2, 3), True)


def test_a_stream_index_left_behind_by_a_racing_update_is_repaired(mongo_url: str) -> None:
    # FerretDB v1 applies racing $max updates non-atomically, so the hint can fall back to
    # an older commit's last version: simulate it.
    with open_store(mongo_url) as store:
        assert isinstance(store, MongoEventStore)
        for _ in range(3):
            store.append("s", [event()])
        store._index._streams.update_one({"_id": "s"}, {"$set": {"version": 1}})
        assert store.append("s", [event()], 3).stream_version == 4
        store._index._streams.update_one({"_id": "s"}, {"$set": {"version": 1}})
        assert store.append("s", [event()]).stream_version == 5
        with pytest.raises(WrongExpectedVersionError) as caught:
            store.append("s", [event()], 2)
        assert caught.value.actual == 5
