"""What the MongoDB stores send: few commands per operation, each one an index can answer.

The stores run against the test server through a client that records every command
(pymongo's command monitoring). Each query (find, update, delete, findAndModify,
aggregate, count) must fit an index the server lists for its collection: this stands in
for MongoDB's ``notablescan``, which FerretDB lacks. An append with no conflict must take
at most 3 commands, whatever its number of events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

import attrs
import pymongo
import pytest

from eventstore.adapters.mongo import MongoEventStore
from eventstore.adapters.mongo_commits import READ_BUDGET_BYTES
from eventstore.adapters.mongo_wakeup import NOTICES
from eventstore.errors import WrongExpectedVersionError
from eventstore.recorder import Receipt, Recorder
from eventstore.records import NO_STREAM
from eventstore.stored import commit_key
from projections.adapters.mongo import MongoReadModelStore
from projections.adapters.mongo_runs import MongoRunQueries
from projections.catalog import PROJECTIONS
from projections.run_queries import RunFilter
from projections.worker import Projector
from tests.backends import is_ferretdb
from tests.workers import new_event
from tools.commands import QUERYING, CommandLog, Index, Sent, unindexed
from tools.workload import Workload

Raw = dict[str, Any]


def split_notices(sent: list[Sent]) -> tuple[list[Sent], list[str]]:
    """Return the commands of the append itself, and the names of its commit notice's."""
    notices = [command.name for command in sent if command.collection == NOTICES]
    return [command for command in sent if command.collection != NOTICES], notices


def listened(url: str) -> tuple[pymongo.MongoClient[Raw], CommandLog]:
    log = CommandLog()
    client: pymongo.MongoClient[Raw] = pymongo.MongoClient(
        url, tz_aware=True, tzinfo=UTC, event_listeners=[log]
    )
    return client, log


def listed_indexes(client: pymongo.MongoClient[Raw], database: str, collection: str) -> list[Index]:
    """Return the indexes of ``collection``; one not created yet will have its ``_id`` one."""
    if collection not in client[database].list_collection_names():
        return [Index(("_id",), unique=True)]
    return [Index.listed(entry) for entry in client[database][collection].list_indexes()]


def assert_every_query_is_indexed(
    client: pymongo.MongoClient[Raw], database: str, sent: list[Sent]
) -> None:
    queries = [command for command in sent if command.name in QUERYING]
    assert queries, "the workload sent no query: the check would pass for nothing"
    indexes = {c.collection: listed_indexes(client, database, c.collection) for c in queries}
    problems = [p for c in queries for p in unindexed(c, indexes[c.collection])]
    assert not problems, "\n".join(sorted(set(problems)))


def test_an_append_takes_at_most_three_commands_whatever_its_size(mongo_url: str) -> None:
    client, log = listened(mongo_url)
    database = client.get_default_database().name
    store = MongoEventStore(client, database, mongo_url)
    other = MongoEventStore.from_url(mongo_url)  # a second writer, not listened to
    try:
        counts: dict[str, int] = {}
        notices: dict[str, list[str]] = {}
        for name, stream, size in [
            ("new stream, 1 event", "a", 1),
            ("known stream, 1 event", "a", 1),
            ("new stream, 400 events", "b", 400),
            ("known stream, 400 events", "b", 400),
        ]:
            with log.counting() as sent:
                store.append(stream, [new_event(i=i) for i in range(size)])
            appending, notice = split_notices(sent)
            counts[name] = len(appending)
            notices[name] = notice
        print(counts, notices)
        assert max(counts.values()) <= 3, counts
        # The store's first notice makes the capped collection; then one insert each.
        assert list(notices.values()) == [["create", "insert"]] + [["insert"]] * 3, notices
        # A conflict may take more; the append still lands, and the log stays whole.
        other.append("a", [new_event()])
        with log.counting() as sent:
            result = store.append("a", [new_event()])
        assert result.positions == (804,)
        assert result.stream_version == 4
        print("after another writer's append:", len(sent))
    finally:
        other.close()
        store.close()


def test_every_query_the_stores_send_is_served_by_a_declared_index(mongo_url: str) -> None:
    client, log = listened(mongo_url)
    database = client.get_default_database().name
    events = MongoEventStore(client, database, mongo_url)
    other = MongoEventStore.from_url(mongo_url)
    read_models = MongoReadModelStore(client, database, mongo_url)
    try:
        appends = list(Workload(seed=7).appends(80))
        for append in appends[:-2]:
            events.append(append.stream_id, list(append.events), append.expected)
        retried, late = appends[-2:]
        events.append(retried.stream_id, list(retried.events))
        assert events.append(retried.stream_id, list(retried.events)).already_stored
        other.append(late.stream_id, list(late.events))  # the first store's tips are behind
        renamed = [attrs.evolve(e, event_id=uuid.uuid4()) for e in late.events]
        with pytest.raises(WrongExpectedVersionError):
            events.append(late.stream_id, renamed, NO_STREAM)
        assert len(list(events.read_all())) == events.head()
        assert list(events.read_all(3, batch_size=2))
        assert list(events.read_stream(late.stream_id, after_version=1))
        events.stream_version("never written")

        Projector(events, read_models, PROJECTIONS).catch_up()
        runs = MongoRunQueries(read_models)
        found = list(runs.runs(*_some_pipeline(events)))
        assert found
        assert runs.run(*_some_pipeline(events), found[0].run_number) is not None
        repo, url, pipeline = _some_pipeline(events)
        since = found[-1].start_time
        for where in [
            RunFilter(),
            RunFilter(status="failed", actor="nobody", commit="0", since=since),
            RunFilter(repo_name=repo),
            RunFilter(repo_name=repo, repo_url=url, pipeline_name=pipeline, branch="main"),
            RunFilter(repo_name=repo, since=since, status="success"),
        ]:
            runs.search(where, skip=1, limit=3)
        assert runs.search(RunFilter(repo_name=repo, repo_url=url, pipeline_name=pipeline))
        assert_every_query_is_indexed(client, database, log.sent())
    finally:
        other.close()
        events.close()


def _some_pipeline(events: MongoEventStore) -> tuple[str, str, str]:
    """Return (repo name, repo URL, pipeline) of the first run the log started."""
    for recorded in events.read_all():
        if recorded.type == "RunStarted":
            data = recorded.data
            return data["repo_name"], data["repo_url"], data["pipeline_name"]
    raise AssertionError("the workload started no run")


def test_a_log_of_large_commits_is_read_on_by_id(mongo_url: str) -> None:
    # After a commit of half the read budget or more, a page could hold one or two such
    # commits anyway: the next is asked for by _id, the one query FerretDB v1 answers
    # without decoding every commit.
    client, log = listened(mongo_url)
    events = MongoEventStore(client, client.get_default_database().name, mongo_url)
    try:
        half = "x" * (READ_BUDGET_BYTES // 2)
        for i in range(4):
            events.append("large", [new_event(pad=half, i=i)])
        with log.counting() as sent:
            read = list(events.read_all())
        assert [event.data["i"] for event in read] == [0, 1, 2, 3]
        filters = [command.body["filter"] for command in sent if command.name == "find"]
        assert len(filters) == 5, filters
        assert filters[0] == {"_id": {"$lte": commit_key(1)}}  # the commit holding 1
        assert "$or" in filters[1]  # a page: the first commit's size is not known yet
        assert filters[2:] == [{"_id": commit_key(p)} for p in (3, 4, 5)]
    finally:
        events.close()


def test_a_step_of_a_run_reads_its_cause_in_two_commands(mongo_url: str) -> None:
    # The run's state (its lifecycle and its causation thread) is read from the store, so
    # any process can record the next step: one read of the run's stream after the last
    # version the recorder has seen, on top of the append (which then knows the stream's
    # tip: an insert on MongoDB, ids and insert on FerretDB).
    client, log = listened(mongo_url)
    store = MongoEventStore(client, client.get_default_database().name, mongo_url)
    try:
        recorder = Recorder(store, actor="engine")
        run = recorder.start_run(
            repo_name="api",
            repo_url="https://git.example.com/api.git",
            branch="main",
            pipeline_name="build",
            commit_hash="9f2c1e7",
            pipeline_config={},
            trigger="push",
        )
        recorder.start_stage(run, "test")
        counts: dict[str, int] = {}
        steps: list[tuple[str, Callable[[], Receipt]]] = [
            ("start_job", lambda: recorder.start_job(run, "test", "unit")),
            (
                "append_log",
                lambda: recorder.append_log(run, "test", "unit", chunk_index=0, content="x"),
            ),
            ("finish_job", lambda: recorder.finish_job(run, "test", "unit", "success")),
        ]
        for name, step in steps:
            with log.counting() as sent:
                step()
            appending, notice = split_notices(sent)
            counts[name] = len(appending)
            assert notice == ["insert"], (name, notice)
        print(counts)
        append_alone = 2 if is_ferretdb(mongo_url) else 1
        assert max(counts.values()) <= append_alone + 2, counts
    finally:
        store.close()


def test_a_search_walks_an_index_in_its_order_and_only_then_checks_the_rest() -> None:
    def search(filter_fields: dict[str, Any]) -> Sent:
        sort = {"start_time": -1, "_id": 1}
        return Sent("find", "jobs_history", {"filter": filter_fields, "sort": sort})

    by_start = Index(("_version", "start_time", "_id"), unique=False)
    by_repo = Index(("_version", "repo_name", "start_time", "_id"), unique=False)
    since = {"$gte": 0}
    walked = search({"_version": "v1", "status": "failed", "start_time": since})
    assert unindexed(walked, [by_start]) == []
    assert unindexed(search({"_version": "v1", "repo_name": "api"}), [by_repo]) == []
    # An index led by a field the filter does not fix gives no bound: a scan of it all.
    assert unindexed(search({"_version": "v1", "status": "failed"}), [by_repo])
