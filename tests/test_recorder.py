"""The recorder: what it fills in for the CI engine, and run numbers under concurrency."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from cirec.config import open_store
from eventstore.catalog import (
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunFinished,
    RunStarted,
    StageFinished,
    Status,
    Trigger,
)
from eventstore.codec import Codec, json_converter
from eventstore.errors import (
    InvalidArgumentError,
    InvalidEventError,
    LifecycleError,
    UnknownRunError,
    WrongExpectedVersionError,
)
from eventstore.recorder import Recorder, RunHandle, run_started_event_id
from eventstore.store import EventStore

ROOT = Path(__file__).resolve().parents[1]
MOMENT = datetime(2026, 11, 28, 9, 30, 0, 123000, tzinfo=UTC)
REPO = {"repo_name": "api", "repo_url": "https://git.example.com/api.git"}


def start(
    recorder: Recorder, pipeline: str = "build", run_id: uuid.UUID | None = None
) -> RunHandle:
    return recorder.start_run(
        **REPO,
        branch="main",
        pipeline_name=pipeline,
        commit_hash="9f2c1e7",
        pipeline_config={"stages": ["build", "test"]},
        trigger=Trigger.PUSH,
        run_id=run_id,
    )


def test_a_run_is_threaded_by_correlation_and_causation(store: EventStore) -> None:
    recorder = Recorder(store, actor="engine", clock=lambda: MOMENT)
    run = start(recorder)
    receipts = [
        recorder.start_stage(run, "test"),
        recorder.start_job(run, "test", "unit", allows_failure=True),
        recorder.append_log(run, "test", "unit", chunk_index=0, content="ok\n"),
        recorder.finish_job(run, "test", "unit", Status.FAILED),
        recorder.finish_stage(run, "test", Status.SUCCESS),
        recorder.finish_run(run, Status.SUCCESS),
    ]
    log = list(store.read_all())
    assert [e.type for e in log] == [
        "RunStarted",
        "StageStarted",
        "JobStarted",
        "JobLogChunkAppended",
        "JobFinished",
        "StageFinished",
        "RunFinished",
    ]
    assert all(e.metadata.correlation_id == run.run_id for e in log)
    assert all(e.metadata.actor == "engine" for e in log)
    assert all(e.occurred_at == MOMENT for e in log)
    causes = [e.metadata.causation_id for e in log]
    assert causes == [None, *[e.event_id for e in log[:-1]]]
    assert [r.position for r in receipts] == [e.position for e in log[1:]]


def test_run_numbers_count_per_pipeline(store: EventStore) -> None:
    recorder = Recorder(store, actor="engine")
    numbers = [start(recorder, "build").run_number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert start(recorder, "deploy").run_number == 1
    stored = [Codec().decode(e) for e in store.read_all()]
    assert [e.run_number for e in stored if isinstance(e, RunStarted)] == [1, 2, 3, 1]


def test_starting_the_same_run_again_returns_it_as_first_stored(store: EventStore) -> None:
    recorder = Recorder(store, actor="engine")
    run_id = uuid.uuid4()
    first = start(recorder, run_id=run_id)
    start(recorder)  # another run takes number 2 meanwhile
    again = start(recorder, run_id=run_id)
    assert (again.run_number, again.started.position) == (first.run_number, first.started.position)
    assert again.started.already_stored
    assert store.head() == 2


def test_emit_refuses_a_run_number_out_of_sequence(store: EventStore) -> None:
    recorder = Recorder(store, actor="engine")
    start(recorder)
    (stored,) = store.read_all()
    raw = json_converter.unstructure(stored)
    for key in ("stream_id", "stream_version", "position", "recorded_at"):
        del raw[key]
    run_id = uuid.uuid4()
    raw["event_id"] = str(run_started_event_id(run_id))
    raw["data"]["run_id"] = str(run_id)
    for wrong in (1, 3):
        raw["data"]["run_number"] = wrong
        with pytest.raises(WrongExpectedVersionError):
            recorder.emit(raw)
    raw["data"]["run_number"] = 2
    assert recorder.emit(raw).stream_version == 2


@pytest.mark.slow
def test_concurrent_starts_get_distinct_consecutive_run_numbers(store_url: str) -> None:
    processes, each = 3, 15
    starters = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.workers", "start_runs", store_url, str(each)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    numbers: list[int] = []
    for starter in starters:
        out, err = starter.communicate(timeout=300)
        assert starter.returncode == 0, err
        numbers.extend(int(line) for line in out.split())
    assert sorted(numbers) == list(range(1, processes * each + 1))
    with open_store(store_url) as store:
        started = [e for e in store.read_all() if e.type == "RunStarted"]
    assert [e.stream_version for e in started] == [e.data["run_number"] for e in started]


def test_statuses_and_triggers_may_be_given_by_their_values(store: EventStore) -> None:
    recorder = Recorder(store, actor="engine")
    run = recorder.start_run(
        repo_name="api",
        repo_url="https://git.example.com/api.git",
        branch="main",
        pipeline_name="build",
        commit_hash="9f2c1e7",
        pipeline_config={},
        trigger="pull_request",
    )
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    recorder.finish_job(run, "test", "unit", "failed")
    recorder.finish_stage(run, "test", "failed")
    recorder.finish_run(run, "failed")
    decoded = [Codec().decode(e) for e in store.read_all()]
    assert isinstance(decoded[0], RunStarted)
    assert decoded[0].trigger is Trigger.PULL_REQUEST
    statuses = [
        e.status for e in decoded if isinstance(e, JobFinished | StageFinished | RunFinished)
    ]
    assert statuses == [Status.FAILED, Status.FAILED, Status.FAILED]
    assert all(type(s) is Status for s in statuses)


@pytest.mark.parametrize("wrong", ["passed", "FAILED", "", 1, None, True, Status])
def test_a_status_that_is_no_value_is_refused_naming_the_field(
    store: EventStore, wrong: object
) -> None:
    recorder = Recorder(store, actor="engine")
    run = start(recorder)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    with pytest.raises(InvalidEventError) as caught:
        recorder.finish_job(run, "test", "unit", wrong)  # type: ignore[arg-type]  # on purpose
    assert caught.value.field == "status"
    assert caught.value.reason == "must be one of 'success', 'failed', 'canceled'"
    with pytest.raises(InvalidEventError) as trigger:
        recorder.start_run(
            repo_name="api",
            repo_url="https://git.example.com/api.git",
            branch="main",
            pipeline_name="build",
            commit_hash="9f2c1e7",
            pipeline_config={},
            trigger="pushed",
        )
    assert trigger.value.field == "trigger"
    assert "'push'" in trigger.value.reason
    assert store.head() == 3  # nothing refused was stored; the value itself is accepted:
    assert recorder.finish_job(run, "test", "unit", "failed").position == 4


def test_a_run_is_recorded_in_turn_by_recorders_on_separate_stores(store_url: str) -> None:
    # Two stores on one URL are what two processes amount to: nothing shared but the store.
    with open_store(store_url) as first_store, open_store(store_url) as second_store:
        first = Recorder(first_store, actor="engine")
        second = Recorder(second_store, actor="runner")
        run = start(first)
        first.start_stage(run, "test")
        continued = second.continue_run(run.run_id)
        assert attrs.evolve(continued, started=run.started) == run
        assert continued.started.position == run.started.position
        second.start_job(run=continued, stage_name="test", job_name="unit")
        first.finish_job(run, "test", "unit", "success")
        second.finish_stage(continued, "test", "success")
        second.finish_run(continued, "success")
        log = list(first_store.read_all())
    actors = ["engine", "engine", "runner", "engine", "runner", "runner"]
    assert [e.metadata.actor for e in log] == actors
    causes = [e.metadata.causation_id for e in log]
    assert causes == [None, *[e.event_id for e in log[:-1]]]
    assert all(e.metadata.correlation_id == run.run_id for e in log)


def test_a_handle_needs_no_state_of_the_recorder_that_made_it(store: EventStore) -> None:
    run = start(Recorder(store, actor="engine"))
    Recorder(store, actor="other").start_stage(run, "test")
    Recorder(store, actor="third").finish_stage(run, "test", Status.SUCCESS)
    started, *steps = store.read_all()
    assert [e.metadata.causation_id for e in steps] == [started.event_id, steps[0].event_id]


def test_continuing_a_run_never_started_names_its_id(store: EventStore) -> None:
    recorder = Recorder(store, actor="engine")
    start(recorder)
    unknown = uuid.uuid4()
    with pytest.raises(UnknownRunError) as caught:
        recorder.continue_run(unknown)
    assert (caught.value.field, caught.value.run_id) == ("run_id", unknown)
    assert str(unknown) in str(caught.value)
    with pytest.raises(InvalidArgumentError) as wrong:
        recorder.continue_run(str(unknown))  # type: ignore[arg-type]  # on purpose
    assert wrong.value.field == "run_id"
    assert store.head() == 1


def test_a_job_log_numbers_its_chunks_and_goes_on_where_another_process_stopped(
    store_url: str,
) -> None:
    with open_store(store_url) as first_store, open_store(store_url) as second_store:
        first = Recorder(first_store, actor="runner-1")
        run = start(first)
        first.start_stage(run, "test")
        first.start_job(run, "test", "unit")
        first.start_job(run, "test", "lint")
        log = first.job_log(run, "test", "unit")
        assert log.next_index == 0
        log.write("a")
        log.write("b")
        first.append_log(run, "test", "lint", chunk_index=0, content="other job")
        # Another runner takes the job over; it knows only the run's id.
        second = Recorder(second_store, actor="runner-2")
        continued = second.job_log(second.continue_run(run.run_id), "test", "unit")
        assert continued.next_index == 2
        continued.write("c")
        # A caller that numbers its own chunks still can, and the writers go on after it.
        second.append_log(run, "test", "unit", chunk_index=3, content="d")
        assert first.job_log(run, "test", "unit").write("e").stream_version == 9
        assert first.job_log(run, "test", "other").next_index == 0
        chunks = [
            (e.data["job_name"], e.data["chunk_index"], e.data["content"])
            for e in first_store.read_all()
            if e.type == "JobLogChunkAppended"
        ]
    assert chunks == [
        ("unit", 0, "a"),
        ("unit", 1, "b"),
        ("lint", 0, "other job"),
        ("unit", 2, "c"),
        ("unit", 3, "d"),
        ("unit", 4, "e"),
    ]


def test_a_chunk_written_twice_at_one_number_is_stored_once(store: EventStore) -> None:
    recorder = Recorder(store, actor="runner")
    run = start(recorder)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    # Two writers that started from the same point: the second finds the number taken.
    one, two = recorder.job_log(run, "test", "unit"), recorder.job_log(run, "test", "unit")
    first = one.write("output\n")
    again = two.write("output\n")
    assert (again.already_stored, again.position) == (True, first.position)
    assert store.head() == 4
    with pytest.raises(InvalidEventError):
        one.write(42)  # type: ignore[arg-type]  # on purpose: refused, takes no number
    assert one.write("more\n").stream_version == 4


def test_a_job_started_again_once_it_ended_is_its_next_attempt(store: EventStore) -> None:
    recorder = Recorder(store, actor="runner")
    run = start(recorder)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    with pytest.raises(LifecycleError) as running:
        recorder.start_job(run, "test", "unit")  # attempt 1 has not ended
    recorder.finish_job(run, "test", "unit", Status.FAILED)
    retried = recorder.start_job(run, "test", "unit")

    assert (running.value.field, running.value.event_type) == ("data.job_name", "JobStarted")
    stored = store.read_event(retried.event_id)
    assert stored is not None
    event = Codec().decode(stored)
    assert isinstance(event, JobStarted)
    assert event.attempt == 2
    assert store.head() == 5  # the run's start, the stage, two starts and one finish


def test_a_retried_job_logs_its_own_chunks_numbered_from_zero(store: EventStore) -> None:
    recorder = Recorder(store, actor="runner")
    run = start(recorder)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    recorder.job_log(run, "test", "unit").write("first try\n")
    recorder.finish_job(run, "test", "unit", Status.FAILED)
    recorder.start_job(run, "test", "unit")

    retry_log = recorder.job_log(run, "test", "unit")
    written = retry_log.write("second try\n")

    assert written.already_stored is False
    stored = store.read_event(written.event_id)
    assert stored is not None
    chunk = Codec().decode(stored)
    assert isinstance(chunk, JobLogChunkAppended)
    assert (chunk.attempt, chunk.chunk_index, chunk.content) == (2, 0, "second try\n")
