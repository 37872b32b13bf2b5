"""What only the MongoDB read-model store promises, checked on a real server (FerretDB here).

The shared promises are in ``test_read_store_contract.py``; these tests look at what the
MongoDB adapter keeps in the database (escaped keys, the version pointer, dropped
collections), at readers racing a version switch, and at its error translation.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
import pytest

from eventstore.adapters.mongo_connection import is_ferretdb
from eventstore.errors import StoreError, StoreUnavailableError
from projections.adapters.mongo import MongoReadModelStore
from projections.adapters.mongo_batches import BATCHES, GRACE, SWEEP_EVERY, MongoBatches
from projections.adapters.mongo_documents import ServerTraits
from projections.adapters.mongo_runs import MongoRunQueries
from projections.adapters.mongo_versions import VERSIONS
from projections.documents import (
    JobLog,
    PipelineEntry,
    RepoConfigDocument,
    RunDocument,
    SessionDocument,
    StageLog,
)
from projections.errors import (
    DocumentTooLargeError,
    QueryArgumentError,
    StaleWriteError,
    UnusableNameError,
    VersionGoneError,
)
from projections.jobs_history import JOBS_HISTORY
from projections.repo_configs import REPO_CONFIGS
from projections.sessions import SESSIONS
from projections.store import Change, Versioned

WHEN = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
REPO, URL = "cirec", "https://git.example/cirec.git"
TRICKY = ["deploy.prod", "$where", "", "a\x00b", "x" * 1000]
CONFIG: dict[str, Any] = {
    "matrix": [[1, 2], [3, [4, []]]],
    "$set": {"a.b": 1, "": [None, True, 2.5]},
    "a.b": {"c.d": ["e.f"]},
}


@pytest.fixture
def store(mongo_url: str) -> Iterator[MongoReadModelStore]:
    with MongoReadModelStore.from_url(mongo_url) as opened:
        yield opened


@pytest.fixture
def other(mongo_url: str) -> Iterator[MongoReadModelStore]:
    """A second connection: another process's worker or reader."""
    with MongoReadModelStore.from_url(mongo_url) as opened:
        yield opened


@pytest.fixture
def raw(mongo_url: str) -> Iterator[pymongo.database.Database[dict[str, Any]]]:
    """The database itself, as a shell or a BI tool sees it."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_url, tz_aware=True)
    with client:
        yield client.get_default_database()


def session(user_id: str, branch: str = "main") -> SessionDocument:
    return SessionDocument(
        user_id=user_id,
        repo_name=REPO,
        repo_url=URL,
        branch=branch,
        commit_hash="0123abc",
        is_remote=True,
        time=WHEN,
        opened_at=WHEN,
    )


def job(name: str) -> JobLog:
    return JobLog(
        job_name=name,
        job_status="success",
        allows_failure=False,
        start_time=WHEN,
        completion_time=WHEN,
        job_logs=f"log of {name!r}",
        attempt=1,
        log_chars=9,
        log_truncated_chars=0,
        log_chunks=1,
    )


def a_run(number: int, pipeline: str = "build", branch: str = "main", **extra: Any) -> RunDocument:
    fields: dict[str, Any] = {
        "run_id": uuid.uuid4(),
        "repo_name": REPO,
        "repo_url": URL,
        "branch": branch,
        "pipeline_name": pipeline,
        "run_number": number,
        "git_commit_hash": "0123abc",
        "pipeline_config_used": CONFIG,
        "status": "success",
        "start_time": WHEN,
        "completion_time": WHEN,
        "logs": {},
        "trigger": "push",
        "actor": "ada",
        "duration_ms": 0,
        "cancel_reason": None,
    }
    return RunDocument(**{**fields, **extra})


def insert(store: MongoReadModelStore, version: str, *runs: RunDocument) -> None:
    store.save(JOBS_HISTORY, version, [Change(str(r.run_id), r, 1, None) for r in runs])


# -- users' names ------------------------------------------------------------------------


def test_tricky_names_round_trip_through_the_server(
    store: MongoReadModelStore, raw: pymongo.database.Database[dict[str, Any]]
) -> None:
    logs = {
        name: StageLog(
            stage_name=name,
            stage_status="success",
            start_time=WHEN,
            completion_time=WHEN,
            jobs={n: job(n) for n in TRICKY},
        )
        for name in TRICKY
    }
    runs = [a_run(i + 1, pipeline=name, branch=name, logs=logs) for i, name in enumerate(TRICKY)]
    version = store.active_version(JOBS_HISTORY)
    insert(store, version, *runs)
    pipelines = {
        name: PipelineEntry(
            pipeline_name=name,
            pipeline_file_name=name,
            pipeline_config=CONFIG,
            job_run_history=(runs[0].run_id,),
            active=True,
            running=False,
            last_commit_hash="c0",
            validated_at=WHEN,
            running_runs=(),
        )
        for name in TRICKY
    }
    config = RepoConfigDocument(repo_name=REPO, repo_url=URL, branch="main", pipelines=pipelines)
    repo_version = store.active_version(REPO_CONFIGS)
    store.save(REPO_CONFIGS, repo_version, [Change("repo", config, 3, None)])

    queries = MongoRunQueries(store)
    for index, (name, run) in enumerate(zip(TRICKY, runs, strict=True)):
        assert store.get(JOBS_HISTORY, str(run.run_id)) == run
        assert queries.runs(REPO, URL, name) == [run]
        assert queries.run(REPO, URL, name, index + 1) == run
    assert store.get(REPO_CONFIGS, "repo") == config
    assert store.load(REPO_CONFIGS, repo_version, ["repo"]) == {"repo": Versioned(config, 3)}

    stored = raw["repo_configs"].find_one({"_id": "repo"})  # the live version: the user's name
    assert stored is not None
    assert stored["_version"] == repo_version
    assert set(stored["pipelines"]) == {"deploy%2Eprod", "%24where", "%", "a%00b", "x" * 1000}
    assert stored["pipelines"]["%24where"]["pipeline_config"]["matrix"] == [
        {"%a": [1, 2]},
        {"%a": [3, {"%a": [4, {"%a": []}]}]},
    ]
    assert stored["_position"] == 3


def test_user_names_are_values_never_operators(store: MongoReadModelStore) -> None:
    version = store.active_version(SESSIONS)
    store.save(SESSIONS, version, [Change("$where", session("$where"), 1, None)])
    assert store.get(SESSIONS, "$where") == session("$where")
    assert store.get(SESSIONS, "$ne") is None
    operator: Any = {"$ne": None}  # what an untyped caller may pass
    with pytest.raises(QueryArgumentError, match="key: must be a string"):
        store.get(SESSIONS, operator)
    with pytest.raises(QueryArgumentError, match="repo_name: must be a string"):
        MongoRunQueries(store).runs(operator, URL, "build")


@pytest.mark.parametrize(
    "traits", [ServerTraits(id_lookups=True, page_size=2), ServerTraits(False, 500)], ids=str
)
def test_both_ways_of_loading_keys_agree(mongo_url: str, traits: ServerTraits) -> None:
    with MongoReadModelStore.from_url(mongo_url, traits=traits) as store:
        version = store.active_version(SESSIONS)
        keys = [f"user-{i:04d}" for i in range(1200)] + TRICKY
        changes = [Change(key, session(key), 5, None) for key in keys]
        store.save(SESSIONS, version, changes)
        wanted = [*keys[::7], "nobody", keys[0]]
        loaded = store.load(SESSIONS, version, wanted)
        assert loaded == {key: Versioned(session(key), 5) for key in keys[::7]}


def test_each_version_gets_the_indexes_its_projection_declares(
    store: MongoReadModelStore, raw: pymongo.database.Database[dict[str, Any]]
) -> None:
    old = store.active_version(JOBS_HISTORY)
    fresh = store.new_version(JOBS_HISTORY)
    store.activate(JOBS_HISTORY, fresh)
    # The live version under the user's name (renamed in with its indexes), a new one aside.
    for name in ("jobs_history", f"jobs_history__{store.new_version(JOBS_HISTORY)}"):
        indexes = raw[name].index_information()
        assert indexes["by_pipeline"]["key"] == [
            ("_version", 1),
            ("repo_name", 1),
            ("repo_url", 1),
            ("pipeline_name", 1),
            ("run_number", -1),
            ("_id", 1),
        ]
    assert f"jobs_history__{old}" not in raw.list_collection_names()
    assert f"jobs_history__{fresh}" not in raw.list_collection_names()


# -- versions ----------------------------------------------------------------------------


def test_activation_switches_what_get_returns_and_drops_the_old_collection(
    store: MongoReadModelStore,
    other: MongoReadModelStore,
    raw: pymongo.database.Database[dict[str, Any]],
) -> None:
    old = store.active_version(SESSIONS)
    store.save(SESSIONS, old, [Change("ada", session("ada", "old"), 1, None)])
    fresh = store.new_version(SESSIONS)
    store.save(SESSIONS, fresh, [Change("ada", session("ada", "rebuilt"), 1, None)])
    assert other.get(SESSIONS, "ada") == session("ada", "old")

    store.activate(SESSIONS, fresh)

    assert other.get(SESSIONS, "ada") == session("ada", "rebuilt")
    assert store.get(SESSIONS, "ada") == session("ada", "rebuilt")
    assert f"sessions__{old}" not in raw.list_collection_names()
    pointer = raw[VERSIONS].find_one({"_id": "sessions"})
    assert pointer is not None
    assert pointer["active"] == fresh
    assert old in pointer["retired"]
    flags = {
        doc["version"]: (doc["active"], doc.get("dropped", False))
        for doc in raw[VERSIONS].find({"projection": "sessions"})
    }
    assert flags == {old: (False, True), fresh: (True, False)}


def test_first_calls_racing_agree_on_one_active_version(mongo_url: str) -> None:
    stores = [MongoReadModelStore.from_url(mongo_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    found: list[str] = []

    def first_call(store: MongoReadModelStore) -> None:
        start.wait()
        found.append(store.active_version(REPO_CONFIGS))

    threads = [threading.Thread(target=first_call, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(found) == len(stores)
        assert len(set(found)) == 1
        assert stores[0].versions(REPO_CONFIGS) == found[:1]
    finally:
        for store in stores:
            store.close()


def test_racing_new_versions_get_different_names(mongo_url: str) -> None:
    stores = [MongoReadModelStore.from_url(mongo_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    made: list[str] = []

    def build(store: MongoReadModelStore) -> None:
        start.wait()
        made.extend(store.new_version(SESSIONS) for _ in range(3))

    threads = [threading.Thread(target=build, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(made) == len(set(made)) == 12
        assert sorted(stores[0].versions(SESSIONS)) == sorted(made)
    finally:
        for store in stores:
            store.close()


def test_a_retired_version_can_never_become_active(store: MongoReadModelStore) -> None:
    store.active_version(SESSIONS)
    abandoned = store.new_version(SESSIONS)
    store.discard(SESSIONS, abandoned)
    with pytest.raises(VersionGoneError):
        store.activate(SESSIONS, abandoned)
    assert abandoned not in store.versions(SESSIONS)


def test_a_write_to_a_dropped_version_is_gone_and_leaves_no_collection(
    store: MongoReadModelStore, raw: pymongo.database.Database[dict[str, Any]]
) -> None:
    store.active_version(SESSIONS)
    abandoned = store.new_version(SESSIONS)
    store.discard(SESSIONS, abandoned)
    # A worker that outlived the discard writes on (MongoDB creates the collection again).
    with pytest.raises(VersionGoneError):
        store.save(SESSIONS, abandoned, [Change("ada", session("ada"), 1, None)])
    assert f"sessions__{abandoned}" not in raw.list_collection_names()


def test_a_new_version_sweeps_collections_no_version_owns(
    store: MongoReadModelStore, raw: pymongo.database.Database[dict[str, Any]]
) -> None:
    store.active_version(SESSIONS)
    abandoned = store.new_version(SESSIONS)
    store.discard(SESSIONS, abandoned)
    # A worker killed between its write to the dropped version and its check left this.
    raw[f"sessions__{abandoned}"].insert_one({"_id": "ada", "_position": 1})

    fresh = store.new_version(SESSIONS)

    names = raw.list_collection_names()
    assert f"sessions__{abandoned}" not in names
    assert f"sessions__{fresh}" in names


def lose_the_race(
    reader: MongoReadModelStore, switch: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Make ``switch`` land between ``reader``'s first pointer read and its query.

    Returns the list of versions the reader read before the switch (filled when it reads).
    """
    read = reader._versions.pointer
    before: list[str] = []

    def read_the_pointer_then_switch(projection: Any) -> Any:
        pointer = read(projection)
        if not before:
            assert pointer.active is not None
            before.append(pointer.active)
            switch()
        return pointer

    monkeypatch.setattr(reader._versions, "pointer", read_the_pointer_then_switch)
    return before


QUERIES: dict[str, Callable[[MongoReadModelStore, RunDocument], object]] = {
    "get": lambda reader, run: reader.get(JOBS_HISTORY, str(run.run_id)),
    "runs": lambda reader, run: MongoRunQueries(reader).runs(REPO, URL, "build"),
    "run": lambda reader, run: MongoRunQueries(reader).run(REPO, URL, "build", 1),
}


@pytest.mark.parametrize("query", QUERIES)
def test_a_reader_that_races_a_switch_still_gets_the_document(
    store: MongoReadModelStore,
    other: MongoReadModelStore,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    old = store.active_version(JOBS_HISTORY)
    first = a_run(1, status="running")
    insert(store, old, first)
    fresh = store.new_version(JOBS_HISTORY)
    rebuilt = a_run(1, run_id=first.run_id)
    insert(store, fresh, rebuilt)
    before = lose_the_race(other, lambda: store.activate(JOBS_HISTORY, fresh), monkeypatch)

    found = QUERIES[query](other, rebuilt)

    assert before == [old]
    assert found in (rebuilt, [rebuilt])


def test_readers_never_miss_a_document_while_versions_switch(
    store: MongoReadModelStore, other: MongoReadModelStore
) -> None:
    version = store.active_version(SESSIONS)
    store.save(SESSIONS, version, [Change("ada", session("ada"), 1, None)])
    done = threading.Event()
    failures: list[BaseException] = []

    def switch() -> None:
        try:
            for _ in range(10):
                fresh = store.new_version(SESSIONS)
                store.save(SESSIONS, fresh, [Change("ada", session("ada"), 1, None)])
                store.activate(SESSIONS, fresh)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            done.set()

    switcher = threading.Thread(target=switch)
    switcher.start()
    reads = 0
    while not done.is_set():
        assert other.get(SESSIONS, "ada") == session("ada")
        reads += 1
    switcher.join()
    assert not failures
    assert reads > 0
    assert len(store.versions(SESSIONS)) == 1


# -- conditional writes ------------------------------------------------------------------


def test_a_save_reports_the_first_stale_change_and_writes_the_rest(
    store: MongoReadModelStore,
) -> None:
    version = store.active_version(SESSIONS)
    store.save(SESSIONS, version, [Change(k, session(k), 1, None) for k in ("a", "b", "c")])
    changes = [
        Change("new", session("new", "x"), 2, None),  # written
        Change("a", session("a", "x"), 2, 1),  # written
        Change("b", session("b", "x"), 2, 7),  # stale: b is at 1
        Change("c", session("c", "x"), 2, None),  # stale: c exists
        Change("d", session("d", "x"), 2, 1),  # stale: d does not exist
    ]
    with pytest.raises(StaleWriteError) as raised:
        store.save(SESSIONS, version, changes)
    assert (raised.value.key, raised.value.loaded_at) == ("b", 7)
    loaded = store.load(SESSIONS, version, ["new", "a", "b", "c", "d"])
    assert loaded == {
        "new": Versioned(session("new", "x"), 2),
        "a": Versioned(session("a", "x"), 2),
        "b": Versioned(session("b"), 1),
        "c": Versioned(session("c"), 1),
    }


def test_a_stale_insert_before_a_stale_replace_is_the_one_reported(
    store: MongoReadModelStore,
) -> None:
    version = store.active_version(SESSIONS)
    store.save(SESSIONS, version, [Change(k, session(k), 1, None) for k in ("a", "b")])
    with pytest.raises(StaleWriteError) as raised:
        store.save(
            SESSIONS,
            version,
            [Change("a", session("a"), 2, None), Change("b", session("b"), 2, 5)],
        )
    assert (raised.value.key, raised.value.loaded_at) == ("a", None)


def race_one_save(stores: list[MongoReadModelStore], version: str, key: str) -> int:
    """Let each store write ``key`` from position 1 at once; return how many succeeded."""
    stores[0].save(SESSIONS, version, [Change(key, session(key), 1, None)])
    start = threading.Barrier(len(stores))
    won: list[int] = []

    def write(index: int) -> None:
        change = Change(key, session(key, f"branch-{index}"), 2 + index, 1)
        start.wait()
        try:
            stores[index].save(SESSIONS, version, [change])
        except StaleWriteError:
            return
        won.append(index)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(won)


def test_of_racing_saves_from_one_position_exactly_one_wins(mongo_url: str) -> None:
    """Atomic on MongoDB. FerretDB v1 (SQLite) evaluates a conditional write's filter and
    applies the write in separate steps, so there several racing writers may "win"."""
    stores = [MongoReadModelStore.from_url(mongo_url) for _ in range(6)]
    try:
        version = stores[0].active_version(SESSIONS)
        winners = [race_one_save(stores, version, f"user-{trial}") for trial in range(10)]
        ferretdb = is_ferretdb(stores[0]._client.admin.command("buildInfo"))
    finally:
        for store in stores:
            store.close()
    if ferretdb and set(winners) != {1}:
        pytest.xfail(f"FerretDB v1: conditional writes are not atomic (winners: {winners})")
    assert set(winners) == {1}


# -- errors ------------------------------------------------------------------------------


def test_a_document_over_the_size_limit_is_refused_naming_it_and_its_size(
    store: MongoReadModelStore,
) -> None:
    version = store.active_version(JOBS_HISTORY)
    huge = JobLog(
        job_name="j",
        job_status="success",
        allows_failure=False,
        start_time=WHEN,
        completion_time=WHEN,
        job_logs="x" * (17 * 1024 * 1024),
        attempt=1,
        log_chars=1,
        log_truncated_chars=0,
        log_chunks=1,
    )
    run = a_run(
        1,
        logs={
            "s": StageLog(
                stage_name="s",
                stage_status="success",
                start_time=WHEN,
                completion_time=WHEN,
                jobs={"j": huge},
            )
        },
    )
    with pytest.raises(DocumentTooLargeError, match=str(run.run_id)) as refused:
        insert(store, version, run)
    assert (refused.value.key, refused.value.limit) == (str(run.run_id), 16 * 1024 * 1024)
    assert refused.value.size > refused.value.limit
    assert list(store.documents(JOBS_HISTORY, version)) == []  # nothing written


def test_an_unreadable_stored_document_is_a_store_error(
    store: MongoReadModelStore, raw: pymongo.database.Database[dict[str, Any]]
) -> None:
    version = store.active_version(SESSIONS)
    raw["sessions"].insert_one({"_id": "ada", "_position": 1, "_version": version, "user_id": 5})
    with pytest.raises(StoreError, match="'ada' of sessions is unreadable"):
        store.get(SESSIONS, "ada")


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    url = "mongodb://ada:s3cret-pw@127.0.0.1:1/cirec?serverSelectionTimeoutMS=200"
    with pytest.raises(StoreUnavailableError) as raised:
        MongoReadModelStore.from_url(url)
    assert "s3cret-pw" not in str(raised.value)
    assert (
        raised.value.location == "mongodb://ada:***@127.0.0.1:1/cirec?serverSelectionTimeoutMS=200"
    )


def test_unknown_versions_are_refused(store: MongoReadModelStore) -> None:
    with pytest.raises(VersionGoneError):
        store.checkpoint(SESSIONS, "v99")
    with pytest.raises(VersionGoneError):
        store.claim_batch(SESSIONS, "v99", 0, 1)
    with pytest.raises(UnusableNameError, match="unusable version name 'sessions; drop'"):
        store.load(SESSIONS, "sessions; drop", ["a"])


def test_documents_too_big_to_share_a_reply_are_read_back(store: MongoReadModelStore) -> None:
    version = store.active_version(JOBS_HISTORY)
    runs = []
    for number in (1, 2, 3, 4):  # four of 13 MiB: more than one 48 MB reply can carry
        log = JobLog(
            job_name="j",
            job_status="success",
            allows_failure=False,
            start_time=WHEN,
            completion_time=WHEN,
            job_logs=str(number) * (13 * 1024 * 1024),
            attempt=1,
            log_chars=1,
            log_truncated_chars=0,
            log_chunks=1,
        )
        runs.append(
            a_run(
                number,
                logs={
                    "s": StageLog(
                        stage_name="s",
                        stage_status="success",
                        start_time=WHEN,
                        completion_time=WHEN,
                        jobs={"j": log},
                    )
                },
            )
        )
    insert(store, version, *runs)
    listed = [stored.document for _, stored in store.documents(JOBS_HISTORY, version)]
    assert sorted(listed, key=lambda run: run.run_number) == runs
    assert MongoRunQueries(store).runs(REPO, URL, "build") == runs[::-1]


def test_claims_are_forgotten_after_the_grace_period_and_stale_claims_refused(
    raw: pymongo.database.Database[dict[str, Any]],
) -> None:
    now = [WHEN]
    versions, claims = raw["read_model_versions"], raw[BATCHES]
    versions.insert_one({"_id": "sessions/v1", "checkpoint": 0})
    batches = MongoBatches(versions, claims, lambda: now[0])

    def fold(count: int) -> None:
        for _ in range(count):
            start = batches.checkpoint("sessions", "v1")
            assert batches.claim("sessions", "v1", start, start + 10) == start + 10
            assert batches.finish("sessions", "v1", start, start + 10)

    fold(SWEEP_EVERY)
    assert claims.count_documents({}) == SWEEP_EVERY  # the sweep kept the recent ones
    now[0] = WHEN + GRACE + timedelta(seconds=1)
    fold(SWEEP_EVERY)
    assert claims.count_documents({}) == SWEEP_EVERY  # the first ones are gone
    assert batches.checkpoint("sessions", "v1") == 2 * SWEEP_EVERY * 10
    assert versions.find_one({"_id": "sessions/v1"}) == {
        "_id": "sessions/v1",
        "checkpoint": 2 * SWEEP_EVERY * 10,
    }
    # A worker that read checkpoint 0 long ago claims only now: it is told to read again.
    assert batches.claim("sessions", "v1", 0, 7) is None
    assert claims.count_documents({"after": 0}) == 0
