"""A large append placed by a header whose writer died before it wrote the whole commit.

Under contention, an append of several events parks its events in ``event_payloads`` and
takes its place with a header of constant size, then replaces the header by the whole
commit (``eventstore.adapters.mongo``). A writer killed between the two leaves the header;
readers, retries and later writers must see exactly the append it stands for.
"""

from __future__ import annotations

from typing import Any

import pymongo
import pytest

from cirec.config import open_store
from eventstore.adapters import EVENTS, PAYLOADS
from eventstore.clock import utc_now
from eventstore.errors import DuplicateEventError
from eventstore.records import NewEvent
from eventstore.stored import CommitPlace, commit_document, commit_header, parked_events
from tests.workers import new_event

Raw = dict[str, Any]


def leave_a_header(url: str, stream_id: str, events: list[NewEvent]) -> Raw:
    """Store ``events`` as a killed writer would have: a header at the head, events parked."""
    with open_store(url) as store:
        head, version = store.head(), store.stream_version(stream_id)
    raw: pymongo.MongoClient[Raw] = pymongo.MongoClient(url, tz_aware=True)
    with raw:
        database = raw.get_default_database()
        last = database[EVENTS].find_one({}, sort=[("_id", -1)])
        log_from = int(last["log_to"]) if last else 0
        place = CommitPlace(
            first_position=head + 1, first_version=version + 1, log_from=log_from, stream_from=0
        )
        commit = commit_document(stream_id, events, place, utc_now())
        database[PAYLOADS].insert_one({"_id": "parked-1", "events": parked_events(commit)})
        database[EVENTS].insert_one(commit_header(commit, "parked-1"))
    return commit


def test_a_header_reads_as_the_append_it_stands_for(mongo_url: str) -> None:
    with open_store(mongo_url) as store:
        store.append("before", [new_event(n=0)])
    events = [new_event(n=i) for i in range(1, 4)]
    leave_a_header(mongo_url, "large", events)
    with open_store(mongo_url) as store:
        # A retry of the same append finds it stored; another append goes after it.
        retried = store.append("large", events)
        assert retried.already_stored
        assert retried.positions == (2, 3, 4)
        after = store.append("large", [new_event(n=4)])
        assert (after.positions, after.stream_version) == ((5,), 4)
        log = list(store.read_all())
        assert [(e.position, e.data["n"]) for e in log] == [(i + 1, i) for i in range(5)]
        assert [e.event_id for e in log[1:4]] == [e.event_id for e in events]
        assert store.read_event(events[1].event_id) == log[2]
        assert [e.stream_version for e in store.read_stream("large")] == [1, 2, 3, 4]
        assert [e.position for e in store.read_all(2)] == [3, 4, 5]
        assert store.stream_version("large") == 4


def test_a_header_whose_commit_was_written_meanwhile_reads_the_same(mongo_url: str) -> None:
    events = [new_event(n=i) for i in range(3)]
    commit = leave_a_header(mongo_url, "large", events)
    with open_store(mongo_url) as store:
        header_view = list(store.read_all())
        # What the writer does once its header has won: the whole commit, then no payload.
        raw: pymongo.MongoClient[Raw] = pymongo.MongoClient(mongo_url, tz_aware=True)
        with raw:
            database = raw.get_default_database()
            database[EVENTS].replace_one({"_id": commit["_id"]}, commit)
            database[PAYLOADS].delete_one({"_id": "parked-1"})
        assert list(store.read_all()) == header_view
        assert [e.event_id for e in header_view] == [e.event_id for e in events]


def test_the_ids_of_a_header_are_never_stored_twice(mongo_url: str) -> None:
    events = [new_event(n=i) for i in range(2)]
    leave_a_header(mongo_url, "large", events)
    with open_store(mongo_url) as store:
        with pytest.raises(DuplicateEventError) as caught:
            store.append("elsewhere", events)
        assert set(caught.value.event_ids) == {str(e.event_id) for e in events}
        assert store.head() == 2
