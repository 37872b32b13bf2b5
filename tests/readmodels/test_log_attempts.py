"""One truth of a job's log: its kept tail is a suffix of its latest attempt's full log.

Random chunk sequences of one job across 1 to 3 attempts (orders, duplicates with the same
and with other text, gaps, chunks of an older attempt) are recorded on each store, once
through the write side (the recorder: what it refuses is left out) and once appended raw
past its gate (as a log written by an older version holds them). After projecting,
``job_logs`` is a suffix of :func:`projections.logs.full_job_log` of the latest attempt,
``log_chars`` is that log's length, and the counters add up; the log fields are also
those of the independent model (:mod:`tests.readmodels.model`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import hypothesis
from attrs import frozen
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from cirec.config import open_read_side, open_store
from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    Status,
    Trigger,
)
from eventstore.clock import utc_now
from eventstore.codec import Codec, json_converter
from eventstore.errors import LifecycleError
from eventstore.recorder import Recorder, RunHandle
from eventstore.records import ANY, Metadata
from eventstore.store import EventStore
from projections.documents import JobLog, RunDocument
from projections.jobs_history import JOBS_HISTORY
from projections.logs import full_job_log, read_job_log
from projections.projection import Envelope
from projections.store import ReadModelStore
from projections.worker import Projector
from tests.backends import cleanup, fresh_url
from tests.readmodels.model import JOBS_HISTORY as MODEL_JOBS_HISTORY
from tests.readmodels.model import ReadModels

STAGE, JOB = "test", "unit"
LOG_FIELDS = ("job_logs", "attempt", "log_chars", "log_truncated_chars", "log_chunks")
IN_CI = os.environ.get("HYPOTHESIS_PROFILE", "dev") == "ci"
# Each example opens a store of its own and projects it: a few milliseconds on SQLite,
# on FerretDB v1 (which scans for every command) about ten times dearer.
EXAMPLES = {"sqlite": 200 if IN_CI else 50, "mongodb": 40 if IN_CI else 10}

BIG = "x" * 40_000
"""Two of these pass the 64 KiB a job's tail keeps, so the tail is cut."""
texts = st.sampled_from(["a", "bb", "é\n", "\x00", BIG])


@frozen
class Chunk:
    """A chunk sent for the latest attempt less ``older`` (0: the latest), at ``index``."""

    older: int
    index: int
    content: str


@frozen
class Retry:
    """The job's latest attempt ends and the next starts (at most 3 attempts)."""


@frozen
class StrayStart:
    """A ``JobStarted`` of the job's latest attempt again (only past the gate)."""


Step = Chunk | Retry | StrayStart
chunks = st.builds(
    Chunk, older=st.sampled_from([0, 0, 0, 1]), index=st.integers(0, 4), content=texts
)
steps = st.lists(
    st.one_of(chunks, chunks, chunks, st.just(Retry()), st.just(StrayStart())), max_size=14
)
"""A job's life after its first start: mostly chunks, now and then a retry."""


Sides = tuple[EventStore, ReadModelStore]


@contextmanager
def fresh_sides(backend: str, folder: Path) -> Iterator[Sides]:
    """Open a new, empty store of ``backend``: its event log and its read models."""
    url = fresh_url(backend, folder)
    try:
        read_models, _ = open_read_side(url)
        with open_store(url) as events, read_models:
            yield events, read_models
    finally:
        cleanup(url)


def start_run(recorder: Recorder) -> RunHandle:
    """Start a run with stage ``test`` and its job ``unit`` (attempt 1) running."""
    run = recorder.start_run(
        repo_name="api",
        repo_url="https://git.example/api.git",
        branch="main",
        pipeline_name="build",
        commit_hash="9f2c1e7",
        pipeline_config={},
        trigger=Trigger.PUSH,
    )
    recorder.start_stage(run, STAGE)
    recorder.start_job(run, STAGE, JOB)
    return run


def through_the_gate(recorder: Recorder, run: RunHandle, plan: list[Step]) -> None:
    """Record ``plan`` with the recorder; what the write side refuses is left out."""
    attempt = 1
    for step in plan:
        try:
            if isinstance(step, Chunk):
                recorder.append_log(
                    run,
                    STAGE,
                    JOB,
                    chunk_index=step.index,
                    content=step.content,
                    attempt=max(attempt - step.older, 1),
                )
            elif isinstance(step, Retry) and attempt < 3:
                recorder.finish_job(run, STAGE, JOB, Status.FAILED)
                recorder.start_job(run, STAGE, JOB, attempt=attempt + 1)
                attempt += 1
            elif isinstance(step, StrayStart):
                recorder.start_job(run, STAGE, JOB, attempt=attempt)
        except LifecycleError:
            pass  # refused: nothing stored


def past_the_gate(events: EventStore, run: RunHandle, plan: list[Step]) -> None:
    """Append ``plan`` raw with ``EventStore.append``: the store checks no lifecycle."""
    codec = Codec()

    def append(event: DomainEvent) -> None:
        record = codec.to_new_event(
            event,
            event_id=uuid4(),
            occurred_at=utc_now(),
            metadata=Metadata(correlation_id=run.run_id, actor="raw"),
        )
        events.append(event.stream_id, [record], ANY)

    def started(attempt: int) -> JobStarted:
        return JobStarted(
            run_id=run.run_id,
            stage_name=STAGE,
            job_name=JOB,
            allows_failure=False,
            attempt=attempt,
        )

    attempt = 1
    for step in plan:
        if isinstance(step, Chunk):
            append(
                JobLogChunkAppended(
                    run_id=run.run_id,
                    stage_name=STAGE,
                    job_name=JOB,
                    chunk_index=step.index,
                    content=step.content,
                    attempt=max(attempt - step.older, 1),
                )
            )
        elif isinstance(step, Retry) and attempt < 3:
            append(JobFinished(run_id=run.run_id, stage_name=STAGE, job_name=JOB, status="failed"))
            attempt += 1
            append(started(attempt))
        elif isinstance(step, StrayStart):
            append(started(attempt))


def the_job(read_models: ReadModelStore, run: RunHandle) -> JobLog:
    """Return job ``unit`` of the run's projected document."""
    document = read_models.get(JOBS_HISTORY, str(run.run_id))
    assert isinstance(document, RunDocument)
    return document.logs[STAGE].jobs[JOB]


def modelled_job(events: EventStore, run: RunHandle) -> dict[str, Any]:
    """Return job ``unit`` as the independent model folds the log."""
    model = ReadModels()
    codec = Codec()
    for record in events.read_all():
        envelope = Envelope.of(record, codec)
        model.apply(envelope.event, envelope.occurred_at, envelope.position)
    job: dict[str, Any] = model.documents(MODEL_JOBS_HISTORY)[str(run.run_id)]["logs"][STAGE][
        "jobs"
    ][JOB]
    return job


def check_one_truth(events: EventStore, read_models: ReadModelStore, run: RunHandle) -> None:
    """Project the log and check the tail against the full log of the latest attempt."""
    Projector(events, read_models, [JOBS_HISTORY]).catch_up()
    job = the_job(read_models, run)
    latest = read_job_log(events, run.run_id, STAGE, JOB)
    full = full_job_log(events, run.run_id, STAGE, JOB)

    assert latest.text == full
    assert latest.attempt == job.attempt == max(latest.attempts)
    assert full == full_job_log(events, run.run_id, STAGE, JOB, attempt=job.attempt)
    assert full.endswith(job.job_logs)
    assert job.log_chars == len(full)
    assert job.log_chars - job.log_truncated_chars == len(job.job_logs)
    stored = json_converter.unstructure(job)
    modelled = modelled_job(events, run)
    assert {f: stored[f] for f in LOG_FIELDS} == {f: modelled[f] for f in LOG_FIELDS}


def run_examples(backend: str, test: Callable[..., None]) -> None:
    """Run the hypothesis test ``test`` with the number of examples ``backend`` can afford."""
    hypothesis.settings(
        max_examples=EXAMPLES[backend],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )(test)()


def test_through_the_write_side_the_tail_is_a_suffix_of_the_latest_attempts_log(
    backend: str, tmp_path: Path
) -> None:
    @given(plan=steps)
    def example(plan: list[Step]) -> None:
        with fresh_sides(backend, tmp_path) as (events, read_models):
            recorder = Recorder(events, actor="runner")
            run = start_run(recorder)
            through_the_gate(recorder, run, plan)
            check_one_truth(events, read_models, run)

    run_examples(backend, example)


def test_past_the_gate_the_tail_is_a_suffix_of_the_latest_attempts_log(
    backend: str, tmp_path: Path
) -> None:
    @given(plan=steps)
    def example(plan: list[Step]) -> None:
        with fresh_sides(backend, tmp_path) as (events, read_models):
            run = start_run(Recorder(events, actor="runner"))
            past_the_gate(events, run, plan)
            check_one_truth(events, read_models, run)

    run_examples(backend, example)


def test_each_attempt_reads_back_its_own_log_numbered_from_zero(
    backend: str, tmp_path: Path
) -> None:
    with fresh_sides(backend, tmp_path) as (events, read_models):
        recorder = Recorder(events, actor="runner")
        run = start_run(recorder)
        for index, text in enumerate(["first try\n", "it failed\n"]):
            recorder.append_log(run, STAGE, JOB, chunk_index=index, content=text)
        recorder.finish_job(run, STAGE, JOB, Status.FAILED)
        recorder.start_job(run, STAGE, JOB, attempt=2)
        recorder.append_log(run, STAGE, JOB, chunk_index=0, content="second try\n")
        Projector(events, read_models, [JOBS_HISTORY]).catch_up()

        job = the_job(read_models, run)
        assert (job.attempt, job.job_logs, job.log_chars, job.log_chunks) == (
            2,
            "second try\n",
            11,
            1,
        )
        assert full_job_log(events, run.run_id, STAGE, JOB) == "second try\n"
        assert full_job_log(events, run.run_id, STAGE, JOB, attempt=2) == "second try\n"
        assert full_job_log(events, run.run_id, STAGE, JOB, attempt=1) == "first try\nit failed\n"
        never = read_job_log(events, run.run_id, STAGE, JOB, attempt=3)
        assert (never.ran, never.text, never.attempts) == (False, "", (1, 2))


def test_chunks_a_log_skips_are_skipped_by_the_tail_and_the_full_log_alike(
    backend: str, tmp_path: Path
) -> None:
    with fresh_sides(backend, tmp_path) as (events, read_models):
        run = start_run(Recorder(events, actor="runner"))
        past_the_gate(
            events,
            run,
            [
                Chunk(0, 1, "early "),  # before chunk 0: out of order, never taken
                Chunk(0, 0, "zero "),
                Chunk(0, 0, "ZERO "),  # index 0 again, other text
                Chunk(0, 3, "gap "),  # chunk 2 missing
                Chunk(0, 1, "one "),
                Retry(),
                Chunk(1, 2, "late "),  # attempt 1, after attempt 2 started
                Chunk(0, 0, "again "),
                StrayStart(),  # attempt 2 once more: its log goes on
                Chunk(0, 1, "on"),
            ],
        )
        Projector(events, read_models, [JOBS_HISTORY]).catch_up()

        assert full_job_log(events, run.run_id, STAGE, JOB, attempt=1) == "zero one "
        assert full_job_log(events, run.run_id, STAGE, JOB) == "again on"
        job = the_job(read_models, run)
        assert (job.attempt, job.job_logs, job.log_chunks) == (2, "again on", 2)
