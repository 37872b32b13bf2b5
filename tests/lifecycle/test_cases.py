"""The cases of issue 12: what a run's history forbids is refused, and the documents stay right.

Each test drives the write side as an engine would, on both stores, through the recorder
and through the importer behind ``cirec emit`` (``path``), and once through the real CLI.
A refused event raises (or is reported with) a :class:`LifecycleError` naming the field
the rules of ``docs/events.md`` ("A run's lifecycle") give, and leaves the log as it was;
where a wrong document was the harm, the documents projected from what was accepted are
checked too.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cirec.config import open_store
from eventstore.catalog import (
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunCanceled,
    RunFinished,
    StageFinished,
    StageStarted,
    Status,
)
from eventstore.clock import normalise_time
from eventstore.errors import InvalidEventError, LifecycleError
from eventstore.recorder import Recorder, RunHandle
from eventstore.store import EventStore
from eventstore.streams import run_stream
from tests.cli.helpers import cirec
from tests.lifecycle.engine import (
    ACTOR,
    PATHS,
    REPO,
    Accepted,
    Path,
    Refused,
    import_all,
    json_line,
    log_state,
    run_document,
    run_started,
    send,
    statuses,
)

RUN_ID = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
SUCCESS, FAILED, CANCELED, RUNNING = "success", "failed", "canceled", "running"

paths = pytest.mark.parametrize("path", PATHS)


def begin(store: EventStore, run_id: uuid.UUID = RUN_ID) -> tuple[Recorder, RunHandle]:
    """Start run ``run_id`` with a recorder on ``store``; return both."""
    recorder = Recorder(store, actor=ACTOR)
    start = run_started(run_id)
    run = recorder.start_run(
        repo_name=start.repo_name,
        repo_url=start.repo_url,
        branch=start.branch,
        pipeline_name=start.pipeline_name,
        commit_hash=start.commit_hash,
        pipeline_config=start.pipeline_config,
        trigger=start.trigger,
        run_id=run_id,
    )
    return recorder, run


def refused_unchanged(
    store: EventStore, path: Path, event: Any, field: str, run_id: uuid.UUID = RUN_ID
) -> None:
    """Send ``event`` by ``path``: it must be refused naming ``field``, the log left as it was."""
    before = log_state(store, run_id)
    assert send(store, path, event) == Refused(field)
    assert log_state(store, run_id) == before


def job(stage: str, name: str, **fields: Any) -> dict[str, Any]:
    """Return the fields that name job ``name`` of ``stage`` in run :data:`RUN_ID`."""
    return {"run_id": RUN_ID, "stage_name": stage, "job_name": name, **fields}


def run_end(**changes: Any) -> dict[str, Any]:
    """Return the fields of a ``RunFinished`` / ``RunCanceled`` of :data:`RUN_ID`, changed."""
    return {"run_id": RUN_ID, **REPO, **changes}


# -- jobs that never started, or not yet --------------------------------------------------------


@paths
def test_a_job_that_never_started_cannot_be_finished_failed_nor_the_run_read_success(
    store: EventStore, store_url: str, path: Path
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")

    refused_unchanged(
        store, path, JobFinished(**job("test", "unit", status=FAILED)), "data.job_name"
    )

    # Recorded as it happened, the failure decides the stage and the run.
    recorder.start_job(run, "test", "unit")
    assert send(store, path, JobFinished(**job("test", "unit", status=FAILED))) == Accepted(False)
    stage_success = StageFinished(run_id=RUN_ID, stage_name="test", status=Status.SUCCESS)
    refused_unchanged(store, path, stage_success, "data.status")
    recorder.finish_stage(run, "test", Status.FAILED)
    refused_unchanged(store, path, RunFinished(**run_end(status=SUCCESS)), "data.status")
    recorder.finish_run(run, Status.FAILED)
    assert statuses(run_document(store, store_url, RUN_ID)) == {
        "run": FAILED,
        "stages": {"test": (FAILED, {"unit": FAILED})},
    }


@paths
def test_a_job_finished_before_its_start_is_refused_and_taken_once_sent_in_order(
    store: EventStore, store_url: str, path: Path
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")
    finished = JobFinished(**job("test", "unit", status=SUCCESS))

    refused_unchanged(store, path, finished, "data.job_name")
    assert send(store, path, JobStarted(**job("test", "unit", allows_failure=False))) == Accepted(
        False
    )
    assert send(store, path, finished) == Accepted(False)

    assert statuses(run_document(store, store_url, RUN_ID))["stages"] == {
        "test": (RUNNING, {"unit": SUCCESS})
    }


@paths
def test_a_job_of_a_stage_that_never_started_is_refused(
    store: EventStore, store_url: str, path: Path
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "build")

    started = JobStarted(**job("test", "unit", allows_failure=False))
    refused_unchanged(store, path, started, "data.stage_name")
    chunk = JobLogChunkAppended(**job("test", "unit", chunk_index=0, content="$ make test\n"))
    refused_unchanged(store, path, chunk, "data.job_name")
    refused_unchanged(
        store, path, JobFinished(**job("test", "unit", status=SUCCESS)), "data.job_name"
    )

    assert statuses(run_document(store, store_url, RUN_ID))["stages"] == {"build": (RUNNING, {})}


# -- the start and the end of a run ---------------------------------------------------------


@paths
def test_a_second_start_of_a_run_id_is_refused_and_the_same_start_again_is_a_retry(
    store: EventStore, store_url: str, path: Path
) -> None:
    first = run_started(RUN_ID)
    assert send(store, path, first) == Accepted(False)
    before = log_state(store, RUN_ID)

    assert send(store, path, first) == Accepted(True)
    assert log_state(store, RUN_ID) == before
    for other in (
        run_started(RUN_ID, run_number=2),
        run_started(RUN_ID, commit_hash="0123456789abcdef"),
        run_started(RUN_ID, pipeline_name="nightly"),
    ):
        refused_unchanged(store, path, other, "data.run_id")

    document = run_document(store, store_url, RUN_ID)
    assert (document["run_number"], document["git_commit_hash"]) == (1, "9f2c1e7")
    assert document["pipeline_name"] == REPO["pipeline_name"]


@paths
@pytest.mark.parametrize("field", ["repo_name", "repo_url", "branch", "pipeline_name"])
def test_a_run_ends_naming_what_it_started_with(
    store: EventStore, store_url: str, path: Path, field: str
) -> None:
    begin(store)
    other = {field: "other"}

    refused_unchanged(store, path, RunFinished(**run_end(status=SUCCESS, **other)), f"data.{field}")
    refused_unchanged(store, path, RunCanceled(**run_end(**other)), f"data.{field}")
    assert send(store, path, RunFinished(**run_end(status=SUCCESS))) == Accepted(False)

    document = run_document(store, store_url, RUN_ID)
    assert (document["status"], document[field]) == (SUCCESS, REPO[field])


@paths
def test_after_a_run_finished_only_log_chunks_may_come(
    store: EventStore, store_url: str, path: Path
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    recorder.append_log(run, "test", "unit", chunk_index=0, content="collected 1 item\n")
    recorder.finish_job(run, "test", "unit", Status.SUCCESS)
    recorder.finish_stage(run, "test", Status.SUCCESS)
    recorder.finish_run(run, Status.SUCCESS)

    refused_unchanged(store, path, RunCanceled(**run_end()), "type")
    refused_unchanged(store, path, RunFinished(**run_end(status=SUCCESS)), "type")
    refused_unchanged(store, path, StageStarted(run_id=RUN_ID, stage_name="deploy"), "type")
    refused_unchanged(store, path, JobFinished(**job("test", "unit", status=FAILED)), "type")
    refused_unchanged(
        store, path, JobStarted(**job("test", "unit", allows_failure=False, attempt=2)), "type"
    )
    with pytest.raises(LifecycleError) as caught:
        recorder.finish_run(run, Status.SUCCESS)
    assert (caught.value.field, caught.value.event_type) == ("type", "RunFinished")

    late = JobLogChunkAppended(**job("test", "unit", chunk_index=1, content="1 passed\n"))
    assert send(store, path, late) == Accepted(False)
    document = run_document(store, store_url, RUN_ID)
    unit = document["logs"]["test"]["jobs"]["unit"]
    assert (document["status"], unit["job_logs"]) == (SUCCESS, "collected 1 item\n1 passed\n")


@paths
def test_an_event_of_a_run_that_never_started_is_refused_naming_its_run_id(
    store: EventStore, path: Path
) -> None:
    begin(store)
    stranger = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
    for event in (
        RunFinished(**run_end(status=SUCCESS, run_id=stranger)),
        RunCanceled(**run_end(run_id=stranger)),
        StageStarted(run_id=stranger, stage_name="test"),
    ):
        refused_unchanged(store, path, event, "data.run_id", run_id=stranger)


def test_an_event_sent_twice_in_one_import_is_stored_once_and_the_repeat_is_a_retry(
    store: EventStore,
) -> None:
    begin(store)
    stage_id = uuid.UUID("00000000-0000-4000-8000-0000000000d4")
    line = json_line(StageStarted(run_id=RUN_ID, stage_name="test"), stage_id)

    verdicts = import_all(store, [line, line])

    assert verdicts == [Accepted(False), Accepted(True)]
    assert [e.event_id for e in store.read_stream(run_stream(RUN_ID))] == [stage_id]
    assert import_all(store, [line]) == [Accepted(True)]


def test_cirec_emit_reports_a_run_finished_twice_and_a_branch_not_its_runs(
    store: EventStore, store_url: str
) -> None:
    recorder, run = begin(store)
    recorder.finish_run(run, Status.SUCCESS)
    before = log_state(store, RUN_ID)
    lines = [
        json_line(RunFinished(**run_end(status=SUCCESS))),
        json_line(StageStarted(run_id=RUN_ID, stage_name="late")),
    ]

    result = cirec("--db", store_url, "emit", stdin="\n".join(lines) + "\n")

    assert result.returncode == 1
    assert [line.split(": ")[:3] for line in result.stderr.splitlines()] == [
        ["line 1", "type", f"RunFinished of run {RUN_ID}"],
        ["line 2", "type", f"StageStarted of run {RUN_ID}"],
    ]
    assert result.stdout.strip() == "0 appended, 0 already stored, 2 rejected"
    with open_store(store_url) as again:
        assert log_state(again, RUN_ID) == before


def test_cirec_emit_refuses_a_run_ending_on_another_branch(
    store: EventStore, store_url: str
) -> None:
    begin(store)
    before = log_state(store, RUN_ID)
    line = json_line(RunCanceled(**run_end(branch="release")))

    result = cirec("--db", store_url, "emit", line)

    assert result.returncode == 1
    assert result.stderr.startswith(f"line 1: data.branch: RunCanceled of run {RUN_ID}: ")
    with open_store(store_url) as again:
        assert log_state(again, RUN_ID) == before


# -- statuses the engine gives ----------------------------------------------------------------


@paths
def test_a_status_its_parts_contradict_is_refused_naming_data_status(
    store: EventStore, store_url: str, path: Path
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    recorder.start_job(run, "test", "lint", allows_failure=True)
    recorder.finish_job(run, "test", "unit", Status.SUCCESS)
    recorder.finish_job(run, "test", "lint", Status.FAILED)  # allowed: a success with a warning

    for wrong in (Status.FAILED, Status.CANCELED):
        stage = StageFinished(run_id=RUN_ID, stage_name="test", status=wrong)
        refused_unchanged(store, path, stage, "data.status")
    with pytest.raises(LifecycleError) as caught:
        recorder.finish_stage(run, "test", Status.FAILED)
    assert (caught.value.field, caught.value.event_type) == ("data.status", "StageFinished")
    recorder.finish_stage(run, "test", Status.SUCCESS)
    refused_unchanged(store, path, RunFinished(**run_end(status=FAILED)), "data.status")
    with pytest.raises(LifecycleError) as caught:
        recorder.finish_run(run, Status.FAILED)
    assert (caught.value.field, caught.value.run_id) == ("data.status", RUN_ID)
    recorder.finish_run(run, Status.SUCCESS)

    assert statuses(run_document(store, store_url, RUN_ID)) == {
        "run": SUCCESS,
        "stages": {"test": (SUCCESS, {"unit": SUCCESS, "lint": FAILED})},
    }


@paths
def test_a_cancel_never_hides_a_failure(store: EventStore, store_url: str, path: Path) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "build")
    recorder.start_job(run, "build", "compile")
    recorder.finish_job(run, "build", "compile", Status.SUCCESS)
    recorder.finish_stage(run, "build", Status.SUCCESS)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    recorder.start_job(run, "test", "lint", allows_failure=True)
    recorder.finish_job(run, "test", "unit", Status.FAILED)

    assert send(store, path, RunCanceled(**run_end(reason="superseded"))) == Accepted(False)
    refused_unchanged(store, path, RunFinished(**run_end(status=FAILED)), "type")

    document = run_document(store, store_url, RUN_ID)
    assert statuses(document) == {
        "run": FAILED,
        "stages": {
            "build": (SUCCESS, {"compile": SUCCESS}),
            "test": (FAILED, {"unit": FAILED, "lint": CANCELED}),
        },
    }
    assert document["cancel_reason"] == "superseded"


@paths
def test_a_cancel_without_a_failure_reads_canceled_even_past_an_allowed_one(
    store: EventStore, store_url: str, path: Path
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "lint", allows_failure=True)
    recorder.start_job(run, "test", "unit")
    recorder.finish_job(run, "test", "lint", Status.FAILED)

    assert send(store, path, RunCanceled(**run_end())) == Accepted(False)

    assert statuses(run_document(store, store_url, RUN_ID)) == {
        "run": CANCELED,
        "stages": {"test": (CANCELED, {"lint": FAILED, "unit": CANCELED})},
    }


# -- what the engine gives from outside: times, text ----------------------------------------


def test_a_recorder_clock_with_an_offset_or_microseconds_is_stored_as_emit_stores_it(
    store: EventStore, store_url: str
) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2026, 1, 15, 15, 0, 0, 123_456, tzinfo=india)
    fine = datetime(2026, 1, 15, 9, 31, 0, 987_654, tzinfo=UTC)
    moments = iter([local, fine])
    recorder = Recorder(store, actor=ACTOR, clock=lambda: next(moments))
    recorder.record(run_started(RUN_ID))
    recorder.record(StageStarted(run_id=RUN_ID, stage_name="test"))
    other = uuid.UUID("00000000-0000-4000-8000-0000000000c3")
    emitted = json.loads(json_line(run_started(other, pipeline_name="nightly")))
    emitted["occurred_at"] = local.isoformat()  # 2026-01-15T15:00:00.123456+05:30
    Recorder(store, actor=ACTOR).emit(emitted)

    started, stage, emitted_start = store.read_all()
    assert started.occurred_at == emitted_start.occurred_at == normalise_time(local)
    assert started.occurred_at == datetime(2026, 1, 15, 9, 30, 0, 123_000, tzinfo=UTC)
    assert stage.occurred_at == datetime(2026, 1, 15, 9, 31, 0, 987_000, tzinfo=UTC)
    assert all(e.occurred_at.tzinfo is UTC for e in (started, stage, emitted_start))
    document = run_document(store, store_url, RUN_ID)
    assert document["start_time"] == "2026-01-15T09:30:00.123Z"
    assert document["logs"]["test"]["start_time"] == "2026-01-15T09:31:00.987Z"


def chunk_json(content: str) -> dict[str, Any]:
    """Return the JSON form of chunk 0 of job ``unit`` of stage ``test``, holding ``content``."""
    chunk = JobLogChunkAppended(**job("test", "unit", chunk_index=0, content="placeholder"))
    raw = json.loads(json_line(chunk))
    raw["data"]["content"] = content
    return dict(raw)


def test_a_lone_surrogate_in_log_content_is_named_data_content_on_every_path(
    store: EventStore, store_url: str
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")
    recorder.start_job(run, "test", "unit")
    before = log_state(store, RUN_ID)
    raw = chunk_json("ok \ud800")
    line = json.dumps(raw)  # the surrogate escaped as \ud800, as a JSON emitter writes it

    with pytest.raises(InvalidEventError) as by_emit:
        recorder.emit(raw)
    (outcome,) = import_all(store, [line])
    result = cirec("--db", store_url, "emit", stdin=line + "\n")
    with pytest.raises(InvalidEventError) as by_step:
        recorder.append_log(run, "test", "unit", chunk_index=0, content="ok \ud800")

    assert by_emit.value.field == "data.content"
    assert by_emit.value.path == ("data", "content")
    assert outcome == Refused("data.content")
    assert result.returncode == 1
    assert result.stderr.startswith("line 1: data.content: holds a lone surrogate")
    # A step's keyword arguments are the event's fields: its path starts at the field.
    assert by_step.value.field == "content"
    with open_store(store_url) as again:
        assert log_state(again, RUN_ID) == before


# -- two writers -------------------------------------------------------------------------------


def test_two_writers_finishing_one_job_one_is_taken_the_other_refused(
    store: EventStore, store_url: str
) -> None:
    recorder, run = begin(store)
    recorder.start_stage(run, "test")
    rounds = 8
    for index in range(rounds):
        recorder.start_job(run, "test", f"job-{index}")
    for index in range(rounds):
        before = store.stream_version(run_stream(RUN_ID))
        outcomes = race(store_url, run, f"job-{index}")
        taken = [o for o in outcomes if isinstance(o, int)]
        refused = [o for o in outcomes if isinstance(o, LifecycleError)]
        assert taken == [before + 1], outcomes
        assert [(e.field, e.event_type) for e in refused] == [("data.job_name", "JobFinished")]
        assert store.stream_version(run_stream(RUN_ID)) == before + 1
    finished = [e for e in store.read_stream(run_stream(RUN_ID)) if e.type == "JobFinished"]
    assert len(finished) == rounds


Outcome = int | BaseException


def race(url: str, run: RunHandle, job_name: str) -> list[Outcome]:
    """Let two writers, each on its own store object, finish ``job_name`` at once.

    Returns what each got: the stream version its event was stored at, or its error.
    """
    barrier = threading.Barrier(2)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def finish(status: Status) -> None:
        outcome: Outcome
        try:
            with open_store(url) as own:
                recorder = Recorder(own, actor=ACTOR)
                handle = recorder.continue_run(run.run_id)
                barrier.wait()
                outcome = recorder.finish_job(handle, "test", job_name, status).stream_version
        except BaseException as exc:  # reported to the test, which names it
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=finish, args=(s,)) for s in (Status.SUCCESS, Status.FAILED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
