"""The read-model store contract, run against every backend (``backend``: sqlite, mongodb).

Each test states one promise of :class:`projections.store.ReadModelStore` or of the run
queries over it (:class:`projections.run_queries.RunQueries`). The tests named
``test_sqlite_*`` state what only the embedded store promises beyond them.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pymongo
import pytest
from hypothesis import HealthCheck, given, settings

from cirec.config import open_store
from eventstore import streams
from eventstore.errors import CirecError, StoreError
from projections.adapters.sqlite import PAGE_SIZE, SQLiteReadModelStore
from projections.documents import (
    JobLog,
    PipelineEntry,
    RepoConfigDocument,
    RunDocument,
    SessionDocument,
    StageLog,
)
from projections.errors import (
    QueryArgumentError,
    StaleWriteError,
    UnusableNameError,
    VersionGoneError,
)
from projections.jobs_history import JOBS_HISTORY
from projections.projection import Index, Projection, QuerySpec
from projections.repo_configs import REPO_CONFIGS
from projections.run_queries import RunQueries
from projections.sessions import SESSIONS
from projections.store import Change, ReadModelStore, Versioned
from projections.unwritable import OVER_BUDGET, Unwritable
from tests.readmodels.conftest import ReadSide
from tests.readmodels.document_strategies import repo_configs, runs
from tests.workers import new_event

D = TypeVar("D")

fixture_per_test = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

WHEN = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
REPO, URL = "cirec", "https://git.example/cirec.git"
LONG_NAME = "n" * 1000
TRICKY = ["deploy.prod", "$where", "", "a\x00b", LONG_NAME]
TRICKY_CONFIG: dict[str, Any] = {
    "matrix": [[1, 2], [3, [4]]],
    "$set": {"a.b": 1, "$where": "sleep(1)", "": [None, True, 2.5]},
    "a.b": {"c.d": ["e.f"]},
    "a\x00b": "nul",
    LONG_NAME: {"$inc": {"x": -1}},
}


# -- documents ---------------------------------------------------------------------------


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
        job_status="failed",
        allows_failure=True,
        start_time=WHEN,
        completion_time=None,
        job_logs=f"output of {name!r}\n",
        attempt=2,
        log_chars=120,
        log_truncated_chars=100,
        log_chunks=3,
    )


def stage(name: str, job_names: list[str]) -> StageLog:
    return StageLog(
        stage_name=name,
        stage_status="success",
        start_time=WHEN,
        completion_time=WHEN,
        jobs={each: job(each) for each in job_names},
    )


def run(
    number: int,
    *,
    pipeline: str = "build",
    branch: str = "main",
    repo: tuple[str, str] = (REPO, URL),
    status: str = "success",
    logs: dict[str, StageLog] | None = None,
    config: dict[str, Any] | None = None,
) -> RunDocument:
    return RunDocument(
        run_id=uuid.uuid4(),
        repo_name=repo[0],
        repo_url=repo[1],
        branch=branch,
        pipeline_name=pipeline,
        run_number=number,
        git_commit_hash="0123abc",
        pipeline_config_used=config if config is not None else {"stages": ["test"]},
        status=status,
        start_time=WHEN,
        completion_time=WHEN,
        logs=logs if logs is not None else {},
        trigger="push",
        actor="ada",
        duration_ms=0,
        cancel_reason=None,
    )


def entry(name: str, config: dict[str, Any]) -> PipelineEntry:
    return PipelineEntry(
        pipeline_name=name,
        pipeline_file_name=f"{name}.yml",
        pipeline_config=config,
        job_run_history=(uuid.uuid4(), uuid.uuid4()),
        active=True,
        running=False,
        last_commit_hash="0123abc",
        validated_at=WHEN,
        running_runs=(),
    )


def repo_config(branch: str, pipelines: dict[str, PipelineEntry]) -> RepoConfigDocument:
    return RepoConfigDocument(repo_name=REPO, repo_url=URL, branch=branch, pipelines=pipelines)


def run_key(document: RunDocument) -> str:
    return str(document.run_id)


def repo_key(document: RepoConfigDocument) -> str:
    return streams.repo_stream(document.repo_name, document.repo_url, document.branch)


# -- helpers -----------------------------------------------------------------------------


def insert(
    store: ReadModelStore,
    projection: Projection[D],
    version: str,
    documents: Mapping[str, D],
    position: int = 1,
) -> None:
    changes = [Change(key, doc, position, None) for key, doc in documents.items()]
    store.save(projection, version, changes)


def fold_to(store: ReadModelStore, projection: Projection[D], version: str, end: int) -> None:
    """Claim and finish the batch from the checkpoint up to ``end``, as a worker does."""
    start = store.checkpoint(projection, version)
    assert store.claim_batch(projection, version, start, end) == end
    store.finish_batch(projection, version, start, end)


def insert_runs(store: ReadModelStore, *runs: RunDocument) -> None:
    version = store.active_version(JOBS_HISTORY)
    insert(store, JOBS_HISTORY, version, {run_key(each): each for each in runs})


def numbers(runs: list[RunDocument]) -> list[int]:
    return [each.run_number for each in runs]


# -- versions ----------------------------------------------------------------------------


def test_a_fresh_store_has_no_versions(read_store: ReadModelStore) -> None:
    projections: list[Projection[Any]] = [SESSIONS, REPO_CONFIGS, JOBS_HISTORY]
    for projection in projections:
        assert read_store.versions(projection) == []


def test_the_first_active_version_is_created_on_demand(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    assert read_store.versions(SESSIONS) == [version]
    assert read_store.checkpoint(SESSIONS, version) == 0
    assert list(read_store.documents(SESSIONS, version)) == []
    assert read_store.active_version(SESSIONS) == version


def test_a_query_creates_the_first_active_version_too(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    assert read_store.get(SESSIONS, "nobody") is None
    assert run_queries.runs(REPO, URL, "build") == []
    assert run_queries.run(REPO, URL, "build", 1) is None
    assert len(read_store.versions(SESSIONS)) == 1
    assert len(read_store.versions(JOBS_HISTORY)) == 1


def test_every_connection_agrees_on_the_active_version(
    read_store: ReadModelStore, open_again: Callable[[], ReadModelStore]
) -> None:
    other = open_again()
    first = other.active_version(REPO_CONFIGS)
    assert read_store.active_version(REPO_CONFIGS) == first
    assert read_store.versions(REPO_CONFIGS) == [first]


def test_a_new_version_is_empty_inactive_and_at_checkpoint_zero(
    read_store: ReadModelStore,
) -> None:
    active = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, active, {"ada": session("ada")})
    fold_to(read_store, SESSIONS, active, 7)

    fresh = read_store.new_version(SESSIONS)

    assert fresh != active
    assert sorted(read_store.versions(SESSIONS)) == sorted([active, fresh])
    assert read_store.active_version(SESSIONS) == active
    assert read_store.checkpoint(SESSIONS, fresh) == 0
    assert list(read_store.documents(SESSIONS, fresh)) == []
    assert read_store.get(SESSIONS, "ada") == session("ada")


def test_a_version_can_be_built_and_activated_before_any_is_active(
    read_store: ReadModelStore,
) -> None:
    fresh = read_store.new_version(SESSIONS)
    insert(read_store, SESSIONS, fresh, {"ada": session("ada")})
    read_store.activate(SESSIONS, fresh)
    assert read_store.active_version(SESSIONS) == fresh
    assert read_store.versions(SESSIONS) == [fresh]
    assert read_store.get(SESSIONS, "ada") == session("ada")


def test_activate_switches_to_the_new_version_and_drops_the_old(
    read_side: ReadSide, open_side_again: Callable[[], ReadSide]
) -> None:
    read_store = read_side[0]
    old = read_store.active_version(JOBS_HISTORY)
    stale, rebuilt = run(1, status="running"), run(2)
    insert(read_store, JOBS_HISTORY, old, {run_key(stale): stale})
    fresh = read_store.new_version(JOBS_HISTORY)
    insert(read_store, JOBS_HISTORY, fresh, {run_key(rebuilt): rebuilt}, position=9)
    fold_to(read_store, JOBS_HISTORY, fresh, 9)

    read_store.activate(JOBS_HISTORY, fresh)

    for reader, runs_of in (read_side, open_side_again()):
        assert reader.active_version(JOBS_HISTORY) == fresh
        assert reader.versions(JOBS_HISTORY) == [fresh]
        assert reader.checkpoint(JOBS_HISTORY, fresh) == 9
        assert reader.get(JOBS_HISTORY, run_key(stale)) is None
        assert reader.get(JOBS_HISTORY, run_key(rebuilt)) == rebuilt
        assert runs_of.runs(REPO, URL, "build") == [rebuilt]


def test_activating_the_active_version_changes_nothing(read_store: ReadModelStore) -> None:
    active = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, active, {"ada": session("ada")})
    read_store.activate(SESSIONS, active)
    assert read_store.versions(SESSIONS) == [active]
    assert read_store.get(SESSIONS, "ada") == session("ada")


def test_activating_a_version_that_does_not_exist_is_refused(
    read_store: ReadModelStore,
) -> None:
    active = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, active, {"ada": session("ada")})
    gone = read_store.new_version(SESSIONS)
    read_store.discard(SESSIONS, gone)
    with pytest.raises(CirecError):
        read_store.activate(SESSIONS, gone)
    assert read_store.active_version(SESSIONS) == active
    assert read_store.get(SESSIONS, "ada") == session("ada")


def test_discard_drops_an_inactive_version(read_store: ReadModelStore) -> None:
    active = read_store.active_version(SESSIONS)
    abandoned = read_store.new_version(SESSIONS)
    insert(read_store, SESSIONS, abandoned, {"ada": session("ada")})
    read_store.discard(SESSIONS, abandoned)
    assert read_store.versions(SESSIONS) == [active]
    assert read_store.active_version(SESSIONS) == active
    assert read_store.get(SESSIONS, "ada") is None


def test_discard_refuses_the_active_version(read_store: ReadModelStore) -> None:
    active = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, active, {"ada": session("ada")})
    with pytest.raises(CirecError):
        read_store.discard(SESSIONS, active)
    assert read_store.versions(SESSIONS) == [active]
    assert read_store.get(SESSIONS, "ada") == session("ada")


def test_versions_of_projections_are_independent(read_store: ReadModelStore) -> None:
    sessions = read_store.active_version(SESSIONS)
    rebuild = read_store.new_version(REPO_CONFIGS)
    assert read_store.versions(SESSIONS) == [sessions]
    assert read_store.versions(REPO_CONFIGS) == [rebuild]
    assert read_store.versions(JOBS_HISTORY) == []


# -- conditional writes ------------------------------------------------------------------


def test_a_second_insert_of_a_key_is_stale(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, version, {"ada": session("ada")}, position=3)
    with pytest.raises(StaleWriteError) as raised:
        insert(read_store, SESSIONS, version, {"ada": session("ada", "dev")}, position=4)
    assert (raised.value.projection, raised.value.key, raised.value.loaded_at) == (
        "sessions",
        "ada",
        None,
    )
    assert read_store.load(SESSIONS, version, ["ada"]) == {"ada": Versioned(session("ada"), 3)}


def test_an_update_from_a_position_the_document_left_is_stale(
    read_store: ReadModelStore,
) -> None:
    version = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, version, {"ada": session("ada")}, position=5)
    for wrong in (4, 6):
        with pytest.raises(StaleWriteError) as raised:
            read_store.save(SESSIONS, version, [Change("ada", session("ada", "dev"), 9, wrong)])
        assert (raised.value.key, raised.value.loaded_at) == ("ada", wrong)
    assert read_store.load(SESSIONS, version, ["ada"]) == {"ada": Versioned(session("ada"), 5)}


def test_an_update_of_a_document_that_does_not_exist_is_stale(
    read_store: ReadModelStore,
) -> None:
    version = read_store.active_version(SESSIONS)
    with pytest.raises(StaleWriteError):
        read_store.save(SESSIONS, version, [Change("ada", session("ada"), 9, 5)])
    assert read_store.load(SESSIONS, version, ["ada"]) == {}


def test_an_update_from_the_loaded_position_is_written(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, version, {"ada": session("ada")}, position=5)
    loaded = read_store.load(SESSIONS, version, ["ada"])["ada"]
    change = Change("ada", session("ada", "dev"), 8, loaded.position)
    read_store.save(SESSIONS, version, [change])
    assert read_store.load(SESSIONS, version, ["ada"]) == {
        "ada": Versioned(session("ada", "dev"), 8)
    }
    assert read_store.get(SESSIONS, "ada") == session("ada", "dev")


def test_a_save_writes_every_change_and_an_empty_one_nothing(
    read_store: ReadModelStore,
) -> None:
    version = read_store.active_version(SESSIONS)
    read_store.save(SESSIONS, version, [])
    insert(read_store, SESSIONS, version, {"ada": session("ada")}, position=1)
    read_store.save(
        SESSIONS,
        version,
        [
            Change("ada", session("ada", "dev"), 4, 1),
            Change("bob", session("bob"), 4, None),
            Change("bob", session("bob", "dev"), 5, 4),
        ],
    )
    assert read_store.load(SESSIONS, version, ["ada", "bob"]) == {
        "ada": Versioned(session("ada", "dev"), 4),
        "bob": Versioned(session("bob", "dev"), 5),
    }


def test_a_worker_that_lost_a_race_cannot_overwrite_the_winner(
    read_store: ReadModelStore, open_again: Callable[[], ReadModelStore]
) -> None:
    version = read_store.active_version(SESSIONS)
    zombie = open_again()
    insert(read_store, SESSIONS, version, {"ada": session("ada")}, position=2)
    seen = zombie.load(SESSIONS, version, ["ada"])["ada"]
    read_store.save(SESSIONS, version, [Change("ada", session("ada", "dev"), 6, seen.position)])
    with pytest.raises(StaleWriteError):
        zombie.save(SESSIONS, version, [Change("ada", session("ada", "old"), 4, seen.position)])
    with pytest.raises(StaleWriteError):
        zombie.save(SESSIONS, version, [Change("bob", session("bob"), 4, None)] * 2)
    assert read_store.get(SESSIONS, "ada") == session("ada", "dev")


def test_versions_hold_separate_documents(read_store: ReadModelStore) -> None:
    active = read_store.active_version(SESSIONS)
    rebuild = read_store.new_version(SESSIONS)
    insert(read_store, SESSIONS, active, {"ada": session("ada")}, position=1)
    insert(read_store, SESSIONS, rebuild, {"ada": session("ada", "dev")}, position=2)
    assert read_store.load(SESSIONS, active, ["ada"]) == {"ada": Versioned(session("ada"), 1)}
    assert read_store.load(SESSIONS, rebuild, ["ada"]) == {
        "ada": Versioned(session("ada", "dev"), 2)
    }
    assert read_store.get(SESSIONS, "ada") == session("ada")


# -- checkpoints -------------------------------------------------------------------------


def test_the_batch_after_a_position_is_claimed_once(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    assert read_store.claim_batch(SESSIONS, version, 0, 5) == 5
    assert read_store.claim_batch(SESSIONS, version, 0, 7) == 5  # the first claim holds
    assert read_store.checkpoint(SESSIONS, version) == 0  # claimed is not finished
    read_store.finish_batch(SESSIONS, version, 0, 5)
    assert read_store.checkpoint(SESSIONS, version) == 5
    read_store.finish_batch(SESSIONS, version, 0, 5)  # a helper finishing it again
    assert read_store.checkpoint(SESSIONS, version) == 5
    assert read_store.claim_batch(SESSIONS, version, 5, 12) == 12
    read_store.finish_batch(SESSIONS, version, 5, 12)
    assert read_store.checkpoint(SESSIONS, version) == 12


def test_the_checkpoint_passes_only_an_unbroken_chain_of_finished_batches(
    read_store: ReadModelStore,
) -> None:
    version = read_store.active_version(SESSIONS)
    assert read_store.claim_batch(SESSIONS, version, 0, 4) == 4
    assert read_store.claim_batch(SESSIONS, version, 4, 9) == 9
    read_store.finish_batch(SESSIONS, version, 4, 9)
    assert read_store.checkpoint(SESSIONS, version) == 0
    read_store.finish_batch(SESSIONS, version, 0, 4)
    assert read_store.checkpoint(SESSIONS, version) == 9


def test_finishing_a_batch_nobody_claimed_is_refused(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    assert read_store.claim_batch(SESSIONS, version, 0, 5) == 5
    with pytest.raises(StoreError) as refused:
        read_store.finish_batch(SESSIONS, version, 0, 6)
    assert "after 0 up to 6" in str(refused.value)
    assert read_store.checkpoint(SESSIONS, version) == 0


def test_a_zombie_cannot_claim_from_a_checkpoint_that_moved_on(
    read_store: ReadModelStore, open_again: Callable[[], ReadModelStore]
) -> None:
    version = read_store.active_version(SESSIONS)
    zombie = open_again()
    seen = zombie.checkpoint(SESSIONS, version)
    fold_to(read_store, SESSIONS, version, 10)
    assert zombie.claim_batch(SESSIONS, version, seen, 4) is None
    assert zombie.checkpoint(SESSIONS, version) == 10


def test_checkpoints_are_per_version_and_projection(read_store: ReadModelStore) -> None:
    active = read_store.active_version(SESSIONS)
    rebuild = read_store.new_version(SESSIONS)
    other = read_store.active_version(REPO_CONFIGS)
    fold_to(read_store, SESSIONS, rebuild, 30)
    assert read_store.checkpoint(SESSIONS, active) == 0
    assert read_store.checkpoint(SESSIONS, rebuild) == 30
    assert read_store.checkpoint(REPO_CONFIGS, other) == 0


# -- loading and listing -----------------------------------------------------------------


def test_load_returns_the_present_keys_only(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, version, {"ada": session("ada"), "bob": session("bob")})
    assert read_store.load(SESSIONS, version, []) == {}
    assert read_store.load(SESSIONS, version, ["eve"]) == {}
    assert read_store.load(SESSIONS, version, ["bob", "eve", "bob"]) == {
        "bob": Versioned(session("bob"), 1)
    }


def test_load_and_documents_take_more_than_a_page(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    wanted = {f"user-{index:05}": session(f"user-{index:05}") for index in range(PAGE_SIZE * 2 + 7)}
    insert(read_store, SESSIONS, version, wanted)
    loaded = read_store.load(SESSIONS, version, [*wanted, "absent"])
    assert loaded == {key: Versioned(doc, 1) for key, doc in wanted.items()}
    listed = list(read_store.documents(SESSIONS, version))
    assert listed == [(key, Versioned(wanted[key], 1)) for key in sorted(wanted)]


def test_documents_come_in_key_order(read_store: ReadModelStore) -> None:
    version = read_store.active_version(SESSIONS)
    keys = [*TRICKY, "Zed", "zed", "é", "日本", "a", "a\x00", "a\x00a", "\U0001f600"]
    insert(read_store, SESSIONS, version, {key: session(key) for key in reversed(keys)})
    assert [key for key, _ in read_store.documents(SESSIONS, version)] == sorted(keys)


# -- queries -----------------------------------------------------------------------------


def test_runs_come_newest_first_one_page_at_a_time(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    mine = [run(number, branch="main" if number % 2 else "dev") for number in range(1, 26)]
    others = [
        run(1, pipeline="lint"),
        run(30, repo=("other", URL)),
        run(31, repo=(REPO, "https://mirror.example/cirec.git")),
    ]
    insert_runs(read_store, *reversed(mine), *others)
    assert numbers(run_queries.runs(REPO, URL, "build")) == list(range(25, 5, -1))
    assert numbers(run_queries.runs(REPO, URL, "build", skip=20)) == [5, 4, 3, 2, 1]
    assert numbers(run_queries.runs(REPO, URL, "build", skip=2, limit=3)) == [23, 22, 21]
    assert run_queries.runs(REPO, URL, "build", skip=25) == []
    assert run_queries.runs(REPO, URL, "build", limit=1) == [mine[-1]]
    assert run_queries.runs(REPO, URL, "deploy") == []


def test_a_run_is_found_by_its_number(read_store: ReadModelStore, run_queries: RunQueries) -> None:
    wanted = run(2)
    insert_runs(read_store, run(1), wanted, run(3), run(2, pipeline="lint"))
    assert run_queries.run(REPO, URL, "build", 2) == wanted
    assert run_queries.run(REPO, URL, "build", 4) is None
    assert run_queries.run("other", URL, "build", 2) is None


def test_queries_follow_every_update(read_store: ReadModelStore, run_queries: RunQueries) -> None:
    version = read_store.active_version(JOBS_HISTORY)
    started = run(1, status="running")
    key = run_key(started)
    insert(read_store, JOBS_HISTORY, version, {key: started}, position=1)
    moved = attrs.evolve(started, pipeline_name="deploy", branch="dev", run_number=3)
    read_store.save(JOBS_HISTORY, version, [Change(key, moved, 2, 1)])
    assert run_queries.runs(REPO, URL, "build") == []
    assert run_queries.run(REPO, URL, "deploy", 3) == moved


def test_queries_read_only_the_active_version(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    read_store.active_version(JOBS_HISTORY)
    building = run(1)
    rebuild = read_store.new_version(JOBS_HISTORY)
    insert(read_store, JOBS_HISTORY, rebuild, {run_key(building): building})
    assert read_store.get(JOBS_HISTORY, run_key(building)) is None
    assert run_queries.runs(REPO, URL, "build") == []
    assert run_queries.run(REPO, URL, "build", 1) is None
    read_store.activate(JOBS_HISTORY, rebuild)
    assert run_queries.runs(REPO, URL, "build") == [building]


def test_queries_match_user_names_exactly(
    read_store: ReadModelStore, run_queries: RunQueries
) -> None:
    runs = [
        run(index + 1, pipeline=name, branch=name, repo=(name, name))
        for index, name in enumerate(TRICKY)
    ]
    decoys = [run(90, pipeline=".*", repo=(".*", ".*")), run(91, pipeline="$ne", branch="a")]
    insert_runs(read_store, *runs, *decoys)
    for index, name in enumerate(TRICKY):
        assert run_queries.runs(name, name, name) == [runs[index]]
        assert run_queries.run(name, name, name, index + 1) == runs[index]
    assert run_queries.runs(".*", ".*", "build") == []


# -- documents round-trip exactly --------------------------------------------------------


def test_tricky_names_round_trip(read_store: ReadModelStore, run_queries: RunQueries) -> None:
    logs = {name: stage(name, TRICKY) for name in TRICKY}
    a_run = run(1, pipeline="deploy.prod", branch="a\x00b", logs=logs, config=TRICKY_CONFIG)
    pipelines = {name: entry(name, TRICKY_CONFIG) for name in TRICKY}
    config = repo_config("$where", pipelines)
    people = {name: session(name, branch=name) for name in TRICKY}

    _assert_round_trip(read_store, JOBS_HISTORY, {run_key(a_run): a_run})
    _assert_round_trip(read_store, REPO_CONFIGS, {repo_key(config): config})
    _assert_round_trip(read_store, SESSIONS, people)
    assert run_queries.runs(REPO, URL, "deploy.prod") == [a_run]


def _assert_round_trip(
    store: ReadModelStore, projection: Projection[D], documents: Mapping[str, D]
) -> None:
    """Save ``documents`` in the active version; every read gives them back as they were."""
    version = store.active_version(projection)
    insert(store, projection, version, documents, position=7)
    expected = {key: Versioned(doc, 7) for key, doc in documents.items()}
    assert store.load(projection, version, list(documents)) == expected
    listed = dict(store.documents(projection, version))
    assert {key: listed[key] for key in documents} == expected
    for key, doc in documents.items():
        assert store.get(projection, key) == doc


@fixture_per_test
@given(document=runs)
def test_generated_runs_round_trip(
    read_side_per_example: Callable[[], AbstractContextManager[ReadSide]], document: RunDocument
) -> None:
    with read_side_per_example() as (read_store, run_queries):
        _assert_round_trip(read_store, JOBS_HISTORY, {run_key(document): document})
        where = (document.repo_name, document.repo_url, document.pipeline_name)
        assert run_queries.runs(*where) == [document]
        assert run_queries.run(*where, document.run_number) == document


@fixture_per_test
@given(document=repo_configs)
def test_generated_repo_configs_round_trip(
    read_side_per_example: Callable[[], AbstractContextManager[ReadSide]],
    document: RepoConfigDocument,
) -> None:
    with read_side_per_example() as (read_store, _):
        _assert_round_trip(read_store, REPO_CONFIGS, {repo_key(document): document})


# -- a read model the stores have never heard of ----------------------------------------

FOURTH: Projection[SessionDocument] = Projection(
    name="session_branches",
    document_type=SessionDocument,
    handlers=(),
    queried_by=QuerySpec(
        fields=("repo_name", "branch"),
        indexes=(Index("by_branch", ("repo_name", "branch"), descending=frozenset({"branch"})),),
    ),
)
"""A fourth read model, declared here only: the stores know it by its declaration."""


def test_a_new_read_model_is_stored_from_its_declaration_alone(
    read_store: ReadModelStore, open_again: Callable[[], ReadModelStore]
) -> None:
    old = read_store.active_version(FOURTH)
    insert(read_store, FOURTH, old, {"ada": session("ada"), "bob": session("bob", "dev")})
    read_store.save(FOURTH, old, [Change("ada", session("ada", "release"), 2, 1)])
    fresh = read_store.new_version(FOURTH)
    insert(read_store, FOURTH, fresh, {"eve": session("eve")}, position=5)
    assert open_again().get(FOURTH, "ada") == session("ada", "release")
    read_store.activate(FOURTH, fresh)
    assert read_store.get(FOURTH, "eve") == session("eve")
    assert read_store.get(FOURTH, "ada") is None
    assert read_store.versions(FOURTH) == [fresh]


# -- bad input is refused up front, with the same error on every store --------------------

RESERVED_NAMES = [
    "events",
    "event_payloads",
    "read_model_versions",
    "read_model_batches",
    "read_model_sequences",
    "read_model_unwritable",
    "sqlite_master",
    "sqlite_sequence",
]
"""Every name a store uses itself (or SQLite keeps for itself): no projection may take one."""
MALFORMED_NAMES = ["", "Sessions", "a__b", "$x", "a.b", "1a", "a b", "a-b", "é", "a\x00b"]
"""Names no table or collection may carry safely."""

MARK = Unwritable(key="ada", position=1, size=9, limit=8, reason=OVER_BUDGET)
"""An unwritable mark, for the calls below."""

Call = Callable[[ReadModelStore, Projection[Any]], object]
PORT_CALLS: dict[str, Call] = {
    "active_version": lambda store, p: store.active_version(p),
    "new_version": lambda store, p: store.new_version(p),
    "versions": lambda store, p: store.versions(p),
    "activate": lambda store, p: store.activate(p, "v1"),
    "discard": lambda store, p: store.discard(p, "v1"),
    "load": lambda store, p: store.load(p, "v1", ["ada"]),
    "save": lambda store, p: store.save(p, "v1", [Change("ada", session("ada"), 1, None)]),
    "checkpoint": lambda store, p: store.checkpoint(p, "v1"),
    "claim_batch": lambda store, p: store.claim_batch(p, "v1", 0, 1),
    "finish_batch": lambda store, p: store.finish_batch(p, "v1", 0, 1),
    "documents": lambda store, p: store.documents(p, "v1"),
    "get": lambda store, p: store.get(p, "ada"),
    "unwritable": lambda store, p: store.unwritable(p, "v1", ["ada"]),
    "mark_unwritable": lambda store, p: store.mark_unwritable(p, "v1", [MARK]),
    "clear_unwritable": lambda store, p: store.clear_unwritable(p, "v1", {"ada": 1}),
}
"""One call of each method of the port, on projection ``p`` (and its version ``v1``)."""


@pytest.mark.parametrize("name", RESERVED_NAMES + MALFORMED_NAMES)
def test_an_unusable_projection_name_is_refused_by_every_call(
    read_store: ReadModelStore, name: str
) -> None:
    renamed = attrs.evolve(SESSIONS, name=name)
    for method, call in PORT_CALLS.items():
        with pytest.raises(UnusableNameError) as raised:
            call(read_store, renamed)
        assert (raised.value.kind, raised.value.name) == ("projection", name), method
    assert read_store.versions(SESSIONS) == []  # nothing was created on the way


@pytest.mark.parametrize(
    "version", ["", "v0", "V1", "v01", "1", "v1 ", 'v1"; DROP TABLE events; --']
)
def test_a_malformed_version_name_is_refused_by_every_call(
    read_store: ReadModelStore, version: str
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: read_store.activate(SESSIONS, version),
        lambda: read_store.discard(SESSIONS, version),
        lambda: read_store.load(SESSIONS, version, ["ada"]),
        lambda: read_store.save(SESSIONS, version, [Change("ada", session("ada"), 1, None)]),
        lambda: read_store.checkpoint(SESSIONS, version),
        lambda: read_store.claim_batch(SESSIONS, version, 0, 1),
        lambda: read_store.finish_batch(SESSIONS, version, 0, 1),
        lambda: read_store.documents(SESSIONS, version),
    ]
    for call in calls:
        with pytest.raises(UnusableNameError) as raised:
            call()
        assert (raised.value.kind, raised.value.name) == ("version", version)


WRONG_KEYS: list[object] = [1, None, b"ada", {"$ne": None}, ["ada"]]


@pytest.mark.parametrize("key", WRONG_KEYS, ids=repr)
def test_a_key_that_is_no_string_is_refused(read_store: ReadModelStore, key: object) -> None:
    version = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, version, {"ada": session("ada")})
    wrong: Any = key  # what an untyped caller may pass
    calls: list[Callable[[], object]] = [
        lambda: read_store.get(SESSIONS, wrong),
        lambda: read_store.load(SESSIONS, version, ["ada", wrong]),
        lambda: read_store.save(SESSIONS, version, [Change(wrong, session("bob"), 2, None)]),
    ]
    for call in calls:
        with pytest.raises(QueryArgumentError) as raised:
            call()
        assert (raised.value.field, raised.value.value) == ("key", key)
    assert read_store.load(SESSIONS, version, ["ada", "bob"]) == {
        "ada": Versioned(session("ada"), 1)
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("position", "2"), ("position", True), ("loaded_at", "1"), ("loaded_at", 1.0)],
)
def test_a_change_whose_position_is_no_integer_is_refused(
    read_store: ReadModelStore, field: str, value: object
) -> None:
    version = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, version, {"ada": session("ada")})
    change: Any = Change("ada", session("ada", "dev"), 2, 1)
    with pytest.raises(QueryArgumentError) as raised:
        read_store.save(SESSIONS, version, [attrs.evolve(change, **{field: value})])
    assert (raised.value.field, raised.value.value) == (field, value)
    assert read_store.get(SESSIONS, "ada") == session("ada")


@pytest.mark.parametrize(
    ("field", "value"), [("version", 1), ("version", None), ("start", "0"), ("end", True)]
)
def test_a_version_or_batch_bound_of_the_wrong_type_is_refused(
    read_store: ReadModelStore, field: str, value: object
) -> None:
    version = read_store.active_version(SESSIONS)
    arguments: dict[str, Any] = {"version": version, "start": 0, "end": 5, field: value}
    calls: list[Callable[[], object]] = [
        lambda: read_store.claim_batch(SESSIONS, **arguments),
        lambda: read_store.finish_batch(SESSIONS, **arguments),
    ]
    if field == "version":
        calls.append(lambda: read_store.checkpoint(SESSIONS, arguments["version"]))
    for call in calls:
        with pytest.raises(QueryArgumentError) as raised:
            call()
        assert (raised.value.field, raised.value.value) == (field, value)
    assert read_store.checkpoint(SESSIONS, version) == 0


@pytest.mark.parametrize("number", ["1", True, 1.0, None], ids=repr)
def test_a_run_number_that_is_no_integer_is_refused(
    read_store: ReadModelStore, run_queries: RunQueries, number: object
) -> None:
    insert_runs(read_store, run(1))
    wrong: Any = number
    with pytest.raises(QueryArgumentError) as raised:
        run_queries.run(REPO, URL, "build", wrong)
    assert (raised.value.field, raised.value.value) == ("run_number", number)


@pytest.mark.parametrize("position", range(3))
@pytest.mark.parametrize("name", [1, None, b"build", {"$gt": ""}, ["build"]], ids=repr)
def test_a_repository_or_pipeline_name_that_is_no_string_is_refused(
    read_store: ReadModelStore, run_queries: RunQueries, name: object, position: int
) -> None:
    insert_runs(read_store, run(1))
    where: list[Any] = [REPO, URL, "build"]
    where[position] = name
    field = ("repo_name", "repo_url", "pipeline_name")[position]
    calls: list[Callable[[], object]] = [
        lambda: run_queries.runs(*where),
        lambda: run_queries.run(where[0], where[1], where[2], 1),
    ]
    for call in calls:
        with pytest.raises(QueryArgumentError) as raised:
            call()
        assert (raised.value.field, raised.value.value) == (field, name)


@pytest.mark.parametrize(("field", "value"), [("skip", "1"), ("limit", True), ("limit", 2.0)])
def test_a_page_bound_that_is_no_integer_is_refused(
    read_store: ReadModelStore, run_queries: RunQueries, field: str, value: object
) -> None:
    insert_runs(read_store, run(1))
    page: dict[str, Any] = {field: value}
    with pytest.raises(QueryArgumentError) as raised:
        run_queries.runs(REPO, URL, "build", **page)
    assert (raised.value.field, raised.value.value) == (field, value)


# -- beside the event log ----------------------------------------------------------------


def test_the_read_models_live_beside_the_event_log(
    store_url: str, read_store: ReadModelStore
) -> None:
    with open_store(store_url) as events:
        events.append("s", [new_event(i=1)])
        version = read_store.active_version(SESSIONS)
        insert(read_store, SESSIONS, version, {"ada": session("ada")})
        rebuild = read_store.new_version(SESSIONS)
        read_store.activate(SESSIONS, rebuild)
        events.append("s", [new_event(i=2)])
        assert [event.data for event in events.read_all()] == [{"i": 1}, {"i": 2}]
        assert events.head() == 2


def under_the_users_name(store_url: str, projection: Projection[Any]) -> list[tuple[str, int]]:
    """``(key, position)`` of each document a direct reader finds under the projection's name:
    the SQLite view, or the MongoDB collection (its live version's documents)."""
    if store_url.startswith("sqlite://"):
        with _raw(Path(store_url.removeprefix("sqlite://"))) as raw:
            rows = raw.execute(f"SELECT key, position FROM {projection.name} ORDER BY key")  # noqa: S608 -- a projection's checked name
            return [(str(key), int(position)) for key, position in rows]
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(store_url)
    with client:
        found = client.get_default_database()[projection.name].find({}, sort=[("_id", 1)])
        return [(str(doc["_id"]), int(doc["_position"])) for doc in found]


def test_a_direct_reader_finds_the_live_documents_under_the_users_name(
    store_url: str, read_store: ReadModelStore
) -> None:
    old = read_store.active_version(SESSIONS)
    insert(read_store, SESSIONS, old, {"ada": session("ada"), "bob": session("bob")})
    assert under_the_users_name(store_url, SESSIONS) == [("ada", 1), ("bob", 1)]
    fresh = read_store.new_version(SESSIONS)
    insert(read_store, SESSIONS, fresh, {"cy": session("cy")}, position=4)
    assert under_the_users_name(store_url, SESSIONS) == [("ada", 1), ("bob", 1)]
    read_store.activate(SESSIONS, fresh)
    assert under_the_users_name(store_url, SESSIONS) == [("cy", 4)]
    read_store.save(SESSIONS, fresh, [Change("cy", session("cy", "x"), 5, 4)])
    assert under_the_users_name(store_url, SESSIONS) == [("cy", 5)]


# -- what only the embedded store promises -----------------------------------------------


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_sqlite_save_is_all_or_nothing(sqlite_store: SQLiteReadModelStore) -> None:
    version = sqlite_store.active_version(SESSIONS)
    insert(sqlite_store, SESSIONS, version, {"ada": session("ada")}, position=3)
    changes = [Change("bob", session("bob"), 5, None), Change("ada", session("ada", "dev"), 5, 2)]
    with pytest.raises(StaleWriteError):
        sqlite_store.save(SESSIONS, version, changes)
    assert sqlite_store.load(SESSIONS, version, ["ada", "bob"]) == {
        "ada": Versioned(session("ada"), 3)
    }


def test_sqlite_a_view_named_like_the_projection_reads_the_active_version(
    sqlite_store: SQLiteReadModelStore, sqlite_file: Path
) -> None:
    old = sqlite_store.active_version(SESSIONS)
    insert(sqlite_store, SESSIONS, old, {"ada": session("ada")})
    fresh = sqlite_store.new_version(SESSIONS)
    insert(sqlite_store, SESSIONS, fresh, {"bob": session("bob")}, position=4)
    with _raw(sqlite_file) as raw:
        assert raw.execute("SELECT key, position FROM sessions").fetchall() == [("ada", 1)]
        sqlite_store.activate(SESSIONS, fresh)
        assert raw.execute("SELECT key, position FROM sessions").fetchall() == [("bob", 4)]
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert f"sessions__{fresh}" in tables
    assert f"sessions__{old}" not in tables


def test_sqlite_the_run_columns_follow_every_write(
    sqlite_store: SQLiteReadModelStore, sqlite_file: Path
) -> None:
    version = sqlite_store.active_version(JOBS_HISTORY)
    started = run(1, pipeline="a.b", branch="a\x00b")
    insert(sqlite_store, JOBS_HISTORY, version, {run_key(started): started})
    moved = attrs.evolve(started, pipeline_name="$where", branch="", run_number=2)
    sqlite_store.save(JOBS_HISTORY, version, [Change(run_key(started), moved, 2, 1)])
    query = "SELECT repo_name, repo_url, pipeline_name, branch, run_number FROM jobs_history"
    with _raw(sqlite_file) as raw:
        assert raw.execute(query).fetchall() == [(REPO, URL, "$where", "", 2)]


def test_sqlite_a_new_read_model_gets_a_column_per_queried_field_and_its_index(
    sqlite_store: SQLiteReadModelStore, sqlite_file: Path
) -> None:
    version = sqlite_store.active_version(FOURTH)
    insert(sqlite_store, FOURTH, version, {"ada": session("ada", "a.b")})
    sqlite_store.save(FOURTH, version, [Change("ada", session("ada", "$where"), 2, 1)])
    query = "SELECT key FROM session_branches WHERE repo_name = ? AND branch = ?"
    with _raw(sqlite_file) as raw:
        assert raw.execute(query, (REPO, "$where")).fetchall() == [("ada",)]
        plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {query}", (REPO, "")))
    assert f"session_branches__{version}__by_branch" in plan


def test_sqlite_run_queries_use_an_index(
    sqlite_store: SQLiteReadModelStore, sqlite_file: Path
) -> None:
    sqlite_store.active_version(JOBS_HISTORY)
    where = "WHERE repo_name = 'r' AND repo_url = 'u' AND pipeline_name = 'p'"
    queries = [
        f"SELECT body FROM jobs_history {where} ORDER BY run_number DESC LIMIT 5",  # noqa: S608 -- constants
        f"SELECT body FROM jobs_history {where} AND run_number = 3 LIMIT 1",  # noqa: S608 -- constants
    ]
    with _raw(sqlite_file) as raw:
        for query in queries:
            plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "USING INDEX" in plan
            assert "TEMP B-TREE" not in plan


def test_sqlite_version_names_are_never_reused(sqlite_store: SQLiteReadModelStore) -> None:
    handed_out = {sqlite_store.active_version(SESSIONS)}
    for _ in range(3):
        abandoned = sqlite_store.new_version(SESSIONS)
        assert abandoned not in handed_out
        handed_out.add(abandoned)
        sqlite_store.discard(SESSIONS, abandoned)
    rebuilt = sqlite_store.new_version(SESSIONS)
    sqlite_store.activate(SESSIONS, rebuilt)
    assert sqlite_store.new_version(SESSIONS) not in handed_out | {rebuilt}


def test_a_version_that_is_gone_is_reported_as_gone(read_store: ReadModelStore) -> None:
    gone = read_store.new_version(SESSIONS)
    read_store.discard(SESSIONS, gone)
    with pytest.raises(VersionGoneError):
        read_store.load(SESSIONS, gone, ["ada"])
    with pytest.raises(VersionGoneError):
        read_store.save(SESSIONS, gone, [Change("ada", session("ada"), 1, None)])
    with pytest.raises(VersionGoneError):
        read_store.checkpoint(SESSIONS, gone)
    with pytest.raises(VersionGoneError):
        read_store.activate(SESSIONS, gone)
    with pytest.raises(VersionGoneError):
        read_store.claim_batch(SESSIONS, gone, 0, 1)
    with pytest.raises(VersionGoneError):
        read_store.finish_batch(SESSIONS, gone, 0, 1)
    read_store.discard(SESSIONS, gone)  # again: nothing to do


def test_sqlite_a_reader_of_the_file_never_sees_a_half_built_projection(
    sqlite_store: SQLiteReadModelStore, sqlite_file: Path
) -> None:
    people = {f"user-{index}": session(f"user-{index}") for index in range(200)}
    insert(sqlite_store, SESSIONS, sqlite_store.active_version(SESSIONS), people)
    done = threading.Event()

    def rebuild_again_and_again() -> None:
        try:
            with SQLiteReadModelStore(sqlite_file) as builder:
                for _ in range(15):
                    fresh = builder.new_version(SESSIONS)
                    for key, doc in people.items():  # one commit each: a slow, visible build
                        insert(builder, SESSIONS, fresh, {key: doc})
                    builder.activate(SESSIONS, fresh)
        finally:
            done.set()

    builder = threading.Thread(target=rebuild_again_and_again)
    builder.start()
    seen: list[int] = []
    try:
        with _raw(sqlite_file) as raw:
            while not done.is_set():
                seen.append(raw.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
    finally:
        done.set()
        builder.join()
    assert len(sqlite_store.versions(SESSIONS)) == 1
    assert seen
    assert set(seen) == {len(people)}


def test_sqlite_forgets_the_batches_the_checkpoint_passed(
    sqlite_store: SQLiteReadModelStore, sqlite_file: Path
) -> None:
    version = sqlite_store.active_version(SESSIONS)
    for end in (5, 9, 14):
        fold_to(sqlite_store, SESSIONS, version, end)
    assert sqlite_store.claim_batch(SESSIONS, version, 14, 20) == 20
    db = _raw(sqlite_file)
    try:
        rows = db.execute("SELECT after_position, last_position FROM read_model_batches").fetchall()
    finally:
        db.close()
    assert rows == [(14, 20)]


def test_unwritable_marks_only_move_forward_and_go_with_their_version(
    read_store: ReadModelStore,
) -> None:
    version = read_store.active_version(SESSIONS)
    later = attrs.evolve(MARK, position=5, size=10)
    read_store.mark_unwritable(SESSIONS, version, [later])
    read_store.mark_unwritable(SESSIONS, version, [MARK])  # a late worker: ignored
    other = attrs.evolve(MARK, key="bob")
    read_store.mark_unwritable(SESSIONS, version, [other])
    assert read_store.unwritable(SESSIONS, version, ["ada", "eve"]) == {"ada": later}
    assert read_store.unwritable(SESSIONS, version) == {"ada": later, "bob": other}
    read_store.clear_unwritable(SESSIONS, version, {"ada": 4, "bob": 1})  # ada's is later
    assert read_store.unwritable(SESSIONS, version) == {"ada": later}
    rebuilt = read_store.new_version(SESSIONS)
    assert read_store.unwritable(SESSIONS, rebuilt) == {}
    read_store.activate(SESSIONS, rebuilt)
    assert read_store.unwritable(SESSIONS, rebuilt) == {}
    with pytest.raises(VersionGoneError):
        read_store.unwritable(SESSIONS, version)
