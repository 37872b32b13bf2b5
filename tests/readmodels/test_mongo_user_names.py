"""The read models under the user's collection names on MongoDB (FerretDB here), and swaps.

What a direct reader (the mongo shell, plain pymongo) finds in ``db.sessions``,
``db.repo_configs`` and ``db.jobs_history`` before and after a rebuild; readers through the
query API while rebuilds swap versions in, inside the window FerretDB's two renames leave
included; and workers of the old version writing during and after a swap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo.database import Database

from cirec.config import open_read_side, open_store
from eventstore.adapters.sqlite import SQLiteEventStore
from eventstore.recorder import Recorder
from projections.adapters.mongo import MongoReadModelStore
from projections.adapters.mongo_documents import ServerTraits, versioned
from projections.catalog import PROJECTIONS
from projections.documents import SessionDocument
from projections.errors import VersionGoneError
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Projection
from projections.rebuild import rebuild, verify
from projections.run_queries import RunQueries
from projections.sessions import SESSIONS
from projections.store import Change, ReadModelStore
from projections.worker import Projector
from tools.workload import TRICKY, Workload

Raw = dict[str, Any]
FENCE = "_version"
"""The field of every stored document naming its version (what a direct reader filters on)."""
WHEN = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
REBUILT: tuple[Projection[Any], ...] = (SESSIONS, JOBS_HISTORY)
LOG_EVENTS = 200
"""Events of the log the rebuild tests fold: FerretDB scans for every lookup, keep it small."""


@pytest.fixture
def raw(mongo_url: str) -> Iterator[Database[Raw]]:
    """The database as the mongo shell sees it."""
    client: pymongo.MongoClient[Raw] = pymongo.MongoClient(mongo_url, tz_aware=True)
    with client:
        yield client.get_default_database()


@pytest.fixture
def sqlite_log(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    """An event log of its own, so that only the read models are on the server."""
    with SQLiteEventStore(tmp_path / "log.sqlite3") as events:
        yield events


def by_plain_name(raw: Database[Raw], projection: Projection[Any]) -> dict[str, Any]:
    """Every document under the projection's own name, decoded, by key."""
    return {doc["_id"]: versioned(projection, doc).document for doc in raw[projection.name].find()}


def listed(store: ReadModelStore, projection: Projection[Any]) -> dict[str, Any]:
    version = store.active_version(projection)
    return {key: stored.document for key, stored in store.documents(projection, version)}


def assert_plain_names_hold_the_live_documents(
    raw: Database[Raw], store: ReadModelStore, runs: RunQueries
) -> None:
    for projection in PROJECTIONS:
        plain = by_plain_name(raw, projection)
        assert plain, f"db.{projection.name} is empty"
        assert plain == listed(store, projection)
        live = store.active_version(projection)
        assert {doc[FENCE] for doc in raw[projection.name].find({}, {FENCE: 1})} == {live}
        for key, document in plain.items():
            assert store.get(projection, key) == document
    for run in by_plain_name(raw, JOBS_HISTORY).values():
        assert runs.run(run.repo_name, run.repo_url, run.pipeline_name, run.run_number) == run
    aside = [name for name in raw.list_collection_names() if "__v" in name]
    assert aside == [], "nothing but the live versions should be left"


def test_the_users_collections_hold_the_live_documents_before_and_after_a_rebuild(
    mongo_url: str, raw: Database[Raw]
) -> None:
    store, runs = open_read_side(mongo_url)
    with open_store(mongo_url) as events, store:
        Workload(seed=9, shape=TRICKY).write(events, LOG_EVENTS)
        Projector(events, store, PROJECTIONS).catch_up()
        assert_plain_names_hold_the_live_documents(raw, store, runs)
        before = {p.name: by_plain_name(raw, p) for p in PROJECTIONS}
        versions = {p.name: store.active_version(p) for p in PROJECTIONS}

        for projection in PROJECTIONS:
            rebuild(events, store, projection)

        assert_plain_names_hold_the_live_documents(raw, store, runs)
        assert {p.name: by_plain_name(raw, p) for p in PROJECTIONS} == before
        assert all(store.active_version(p) != versions[p.name] for p in PROJECTIONS)


def expected_reads(
    store: ReadModelStore, runs: RunQueries
) -> tuple[dict[str, SessionDocument | None], dict[tuple[str, str, str], list[Any]]]:
    sessions = {key: store.get(SESSIONS, key) for key in listed(store, SESSIONS)}
    pipelines = {
        (run.repo_name, run.repo_url, run.pipeline_name)
        for run in listed(store, JOBS_HISTORY).values()
    }
    pages = {pipeline: runs.runs(*pipeline, limit=1000) for pipeline in pipelines}
    return sessions, pages


def assert_reads_are_whole(
    store: ReadModelStore,
    runs: RunQueries,
    sessions: dict[str, SessionDocument | None],
    pages: dict[tuple[str, str, str], list[Any]],
) -> None:
    for key, document in sessions.items():
        assert store.get(SESSIONS, key) == document
    for pipeline, page in pages.items():
        assert runs.runs(*pipeline, limit=1000) == page


def test_a_reader_polling_through_rebuilds_never_sees_a_missing_or_partial_projection(
    mongo_url: str, raw: Database[Raw], sqlite_log: SQLiteEventStore, tmp_path: Path
) -> None:
    Workload(seed=11, shape=TRICKY).write(sqlite_log, LOG_EVENTS)
    store, runs = open_read_side(mongo_url)
    with store:
        Projector(sqlite_log, store, PROJECTIONS).catch_up()
        sessions, pages = expected_reads(store, runs)
        assert sessions
        assert pages
        first = {p.name: store.active_version(p) for p in REBUILT}
        done = threading.Event()
        failures: list[BaseException] = []

        def rebuild_again_and_again() -> None:
            try:
                with (
                    SQLiteEventStore(tmp_path / "log.sqlite3") as log,
                    MongoReadModelStore.from_url(mongo_url) as rebuilder,
                ):
                    for _ in range(3):
                        for projection in REBUILT:
                            rebuild(log, rebuilder, projection)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
            finally:
                done.set()

        rebuilder = threading.Thread(target=rebuild_again_and_again)
        rebuilder.start()
        reads = 0
        try:
            while not done.is_set():
                assert_reads_are_whole(store, runs, sessions, pages)
                reads += 1
        finally:
            rebuilder.join()
        assert not failures
        assert reads > 0
        assert all(store.active_version(p) != first[p.name] for p in REBUILT)
        assert by_plain_name(raw, SESSIONS) == sessions


def session(user_id: str, branch: str = "main") -> SessionDocument:
    return SessionDocument(
        user_id=user_id,
        repo_name="cirec",
        repo_url="https://git.example/cirec.git",
        branch=branch,
        commit_hash="0123abc",
        is_remote=True,
        time=WHEN,
        opened_at=WHEN,
    )


def two_versions(store: MongoReadModelStore) -> tuple[str, str]:
    """A live version with ada and bob, and a rebuilt one with ada and cy, not yet live."""
    old = store.active_version(SESSIONS)
    store.save(SESSIONS, old, [Change(k, session(k, "old"), 1, None) for k in ("ada", "bob")])
    fresh = store.new_version(SESSIONS)
    store.save(SESSIONS, fresh, [Change(k, session(k, "new"), 1, None) for k in ("ada", "cy")])
    return old, fresh


def late_writes(zombie: MongoReadModelStore, old: str) -> Callable[[], None]:
    """Load at ``old`` now; the returned call then saves an insert and a replace there."""
    loaded = zombie.load(SESSIONS, old, ["ada", "dee"])
    assert loaded["ada"].position == 1

    def write() -> None:
        zombie.save(
            SESSIONS,
            old,
            [
                Change("ada", session("ada", "zombie"), 2, 1),
                Change("dee", session("dee", "zombie"), 2, None),
            ],
        )

    return write


def test_a_worker_of_the_old_version_writes_nothing_into_the_new_one(
    mongo_url: str, raw: Database[Raw]
) -> None:
    with (
        MongoReadModelStore.from_url(mongo_url) as store,
        MongoReadModelStore.from_url(mongo_url) as zombie,
    ):
        old, fresh = two_versions(store)
        write = late_writes(zombie, old)
        store.activate(SESSIONS, fresh)

        with pytest.raises(VersionGoneError):
            write()

        assert by_plain_name(raw, SESSIONS) == {
            "ada": session("ada", "new"),
            "cy": session("cy", "new"),
        }
        assert raw[SESSIONS.name].count_documents({FENCE: {"$ne": fresh}}) == 0
        assert store.get(SESSIONS, "dee") is None


def test_a_late_write_inside_the_swap_window_neither_stops_the_swap_nor_survives_it(
    mongo_url: str, raw: Database[Raw]
) -> None:
    """Between FerretDB's two renames the plain name is missing: a worker of the old version
    that writes then creates it again. The swap still ends with the new version in place,
    the late insert gone, and a reader through the query API served in the window."""
    # The fallback is what runs on FerretDB; on MongoDB it runs where dropTarget is refused.
    traits = ServerTraits(id_lookups=True, page_size=2, write_batch=10, rename_drops_target=False)
    with (
        MongoReadModelStore.from_url(mongo_url, traits=traits) as store,
        MongoReadModelStore.from_url(mongo_url) as zombie,
        MongoReadModelStore.from_url(mongo_url) as reader,
    ):
        old, fresh = two_versions(store)
        write = late_writes(zombie, old)
        outcome: list[BaseException | None] = []
        in_window: list[object] = []

        def zombie_writes() -> None:
            try:
                write()
                outcome.append(None)
            except BaseException as exc:  # checked below
                outcome.append(exc)

        def inside_the_window() -> None:
            if in_window:
                return  # the retry after the late write: nothing more to do
            in_window.append(SESSIONS.name in raw.list_collection_names())
            in_window.append([reader.get(SESSIONS, k) for k in ("ada", "cy", "dee")])
            late = threading.Thread(target=zombie_writes)
            late.start()
            in_window.append(late)
            # Wait for the late insert to land (the zombie then waits for the swap to end).
            for _ in range(10_000):
                if raw[SESSIONS.name].find_one({"_id": "dee"}) is not None or outcome:
                    return
            raise AssertionError("the late write never landed")

        store._versions.between_renames = inside_the_window
        store.activate(SESSIONS, fresh)
        late_thread = in_window[2]
        assert isinstance(late_thread, threading.Thread)
        late_thread.join()

        assert in_window[0] is False  # the plain name was missing in the window
        assert in_window[1] == [session("ada", "new"), session("cy", "new"), None]
        assert len(outcome) == 1
        assert isinstance(outcome[0], VersionGoneError)
        assert by_plain_name(raw, SESSIONS) == {
            "ada": session("ada", "new"),
            "cy": session("cy", "new"),
        }
        assert [n for n in raw.list_collection_names() if n.startswith("sessions__")] == []


def workspace(n: int) -> dict[str, Any]:
    """The repository, branch and commit of the ``n``-th session event."""
    return {
        "repo_name": "cirec",
        "repo_url": "https://git.example/cirec.git",
        "branch": f"b{n}",
        "commit_hash": f"{n:07x}",
        "is_remote": n % 2 == 0,
    }


def test_a_worker_following_the_log_through_rebuilds_loses_nothing(
    mongo_url: str, raw: Database[Raw], sqlite_log: SQLiteEventStore, tmp_path: Path
) -> None:
    users = [f"user-{n}" for n in range(12)]
    recorder = Recorder(sqlite_log, actor="ci")
    for n, user in enumerate(users):
        recorder.open_session(user, **workspace(n))
    stop, failures = threading.Event(), []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
                stop.set()

        return run

    def follow() -> None:
        with (
            SQLiteEventStore(tmp_path / "log.sqlite3") as events,
            MongoReadModelStore.from_url(mongo_url) as worker_store,
        ):
            Projector(events, worker_store, [SESSIONS], batch_size=7).follow(stop.is_set, stop.wait)

    def append() -> None:
        with SQLiteEventStore(tmp_path / "log.sqlite3") as events:
            appender = Recorder(events, actor="ci")
            for n in range(len(users), 400):
                if stop.is_set():
                    return
                appender.access_session(users[n % len(users)], **workspace(n))

    worker = threading.Thread(target=guarded(follow))
    appender = threading.Thread(target=guarded(append))
    worker.start()
    appender.start()
    with MongoReadModelStore.from_url(mongo_url) as store:
        try:
            swaps = 0
            while appender.is_alive() or swaps < 3:
                rebuild(sqlite_log, store, SESSIONS, batch_size=50)
                swaps += 1
            appender.join()
            Projector(sqlite_log, store, [SESSIONS]).catch_up()
        finally:
            stop.set()
            appender.join()
            worker.join()
        assert not failures
        live = store.active_version(SESSIONS)
        assert store.checkpoint(SESSIONS, live) == sqlite_log.head()
        assert verify(sqlite_log, store, SESSIONS) == []
        plain = by_plain_name(raw, SESSIONS)
        assert sorted(plain) == sorted(users)
        assert raw[SESSIONS.name].count_documents({FENCE: {"$ne": live}}) == 0
        assert {doc.commit_hash for doc in plain.values()} == {f"{n:07x}" for n in range(388, 400)}


def test_a_swap_interrupted_after_the_switch_is_finished_by_activating_again(
    mongo_url: str, raw: Database[Raw], monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        MongoReadModelStore.from_url(mongo_url) as store,
        MongoReadModelStore.from_url(mongo_url) as reader,
    ):
        old, fresh = two_versions(store)

        def die(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt  # the activating process dies between switch and rename

        with monkeypatch.context() as patched:
            patched.setattr("projections.adapters.mongo_placement.swap_in", die)
            with pytest.raises(KeyboardInterrupt):
                store.activate(SESSIONS, fresh)
        pointer = raw["read_model_versions"].find_one({"_id": "sessions"})
        assert pointer is not None
        assert (pointer["active"], pointer["placing"]["version"]) == (fresh, fresh)
        assert reader.get(SESSIONS, "cy") == session("cy", "new")  # queries still answer
        assert reader.get(SESSIONS, "bob") is None

        store.activate(SESSIONS, fresh)

        assert by_plain_name(raw, SESSIONS) == {
            "ada": session("ada", "new"),
            "cy": session("cy", "new"),
        }
        pointer = raw["read_model_versions"].find_one({"_id": "sessions"})
        assert pointer is not None
        assert pointer["placed"] == fresh
        assert "placing" not in pointer
        store.save(SESSIONS, fresh, [Change("cy", session("cy", "x"), 2, 1)])  # no wait
        assert reader.get(SESSIONS, "cy") == session("cy", "x")
        assert old in pointer["retired"]
