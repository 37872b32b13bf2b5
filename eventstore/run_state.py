"""A run's state, folded from its events: what the lifecycle's checks look at.

A run is an aggregate: its ``RunStarted`` (in its pipeline's run-number stream) and the
events of its own stream. :func:`opened` and :func:`advance` fold them into a
:class:`RunState`, which :mod:`eventstore.lifecycle` checks each next event against.
Everything here is pure, and :func:`advance` is total: an event no rule would accept
today (in a log written before the rules existed) changes what it can, as the
``jobs_history`` fold does with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from uuid import UUID

from attrs import evolve, frozen

from eventstore.catalog import (
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunCanceled,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
    Status,
)
from eventstore.catalog.runs import RunEvent
from eventstore.status_rule import RUNNING, canceled_status, composite, job_part

CANCELED = Status.CANCELED.value


@frozen
class JobState:
    """A job of a run: its latest attempt, how that attempt stands, and its log so far."""

    attempt: int
    status: str
    allows_failure: bool
    chunks: tuple[tuple[bytes, UUID], ...] = ()
    """The digest and event id of each chunk of the latest attempt, by chunk index."""


@frozen
class StageState:
    """A stage of a run and its jobs, by name."""

    status: str
    jobs: Mapping[str, JobState]


@frozen
class RunState:
    """What a run's events so far make of it; ``version`` is its stream's version."""

    start: RunStarted
    status: str
    stages: Mapping[str, StageState]
    version: int
    last_event_id: UUID
    """The run's latest event: the last of its stream, or its ``RunStarted``."""


def opened(start: RunStarted, start_event_id: UUID) -> RunState:
    """Return the state of a run that has just started: running, no stages."""
    return RunState(start=start, status=RUNNING, stages={}, version=0, last_event_id=start_event_id)


def digest(content: str) -> bytes:
    """Return the digest by which a chunk's text is told from another's."""
    return hashlib.blake2b(content.encode(), digest_size=16).digest()


def advance(state: RunState, event: RunEvent, event_id: UUID, version: int) -> RunState:
    """Return the state after ``event``, stored at ``version`` of the run's stream.

    Total: an event :func:`check` would refuse changes what it can and nothing else, as
    the ``jobs_history`` fold does with it.
    """
    moved = evolve(state, version=version, last_event_id=event_id)
    if isinstance(event, StageStarted):
        if event.stage_name in state.stages:
            return moved
        return _with_stage(moved, event.stage_name, StageState(status=RUNNING, jobs={}))
    if isinstance(event, StageFinished):
        stage = state.stages.get(event.stage_name)
        if stage is None or stage.status != RUNNING:
            return moved
        return _with_stage(
            moved, event.stage_name, evolve(stage, status=stage_status(stage, event.status.value))
        )
    if isinstance(event, JobStarted):
        return _job_started(moved, event)
    if isinstance(event, JobLogChunkAppended):
        return _chunk_appended(moved, event, event_id)
    if isinstance(event, JobFinished):
        job = job_of(state, event.stage_name, event.job_name)
        if job is None or job.status != RUNNING:
            return moved
        return _with_job(
            moved, event.stage_name, event.job_name, evolve(job, status=event.status.value)
        )
    if isinstance(event, RunCanceled) and state.status == RUNNING:
        return _canceled(moved)
    if isinstance(event, RunFinished) and state.status == RUNNING:
        return evolve(moved, status=run_status(state, event.status.value))
    return moved


def stage_status(stage: StageState, given: str) -> str:
    """Return the status its jobs give a stage; a stage without jobs takes ``given``."""
    if not stage.jobs:
        return given
    return composite(job_part(job.status, job.allows_failure) for job in stage.jobs.values())


def run_status(state: RunState, given: str) -> str:
    """Return the status its stages give a run; a run without stages takes ``given``."""
    if not state.stages:
        return given
    return composite(stage.status for stage in state.stages.values())


def job_of(state: RunState, stage_name: str, job_name: str) -> JobState | None:
    """Return the job ``job_name`` of stage ``stage_name``, or None if it never started."""
    stage = state.stages.get(stage_name)
    return None if stage is None else stage.jobs.get(job_name)


def next_attempt(job: JobState | None) -> int:
    """Return the attempt a job starts as next: 1 if it never ran, else its latest + 1.

    A job whose latest attempt is still running gives that attempt: starting it again is
    what the lifecycle refuses, naming the running attempt.
    """
    if job is None:
        return 1
    return job.attempt if job.status == RUNNING else job.attempt + 1


def _with_stage(state: RunState, name: str, stage: StageState) -> RunState:
    return evolve(state, stages={**state.stages, name: stage})


def _with_job(state: RunState, stage_name: str, job_name: str, job: JobState) -> RunState:
    stage = state.stages[stage_name]
    return _with_stage(state, stage_name, evolve(stage, jobs={**stage.jobs, job_name: job}))


def _job_started(state: RunState, event: JobStarted) -> RunState:
    stage = state.stages.get(event.stage_name)
    if stage is None:
        # The read side opens a stage it never saw start (logs older than these rules).
        stage = StageState(status=RUNNING, jobs={})
        state = _with_stage(state, event.stage_name, stage)
    old = stage.jobs.get(event.job_name)
    if old is not None and event.attempt <= old.attempt:
        return state
    job = JobState(attempt=event.attempt, status=RUNNING, allows_failure=event.allows_failure)
    return _with_job(state, event.stage_name, event.job_name, job)


def _chunk_appended(state: RunState, event: JobLogChunkAppended, event_id: UUID) -> RunState:
    job = job_of(state, event.stage_name, event.job_name)
    if job is None or event.attempt != job.attempt or event.chunk_index != len(job.chunks):
        return state
    grown = evolve(job, chunks=(*job.chunks, (digest(event.content), event_id)))
    return _with_job(state, event.stage_name, event.job_name, grown)


def _canceled(state: RunState) -> RunState:
    """Cancel every running job and stage, and the run (failed stays failed)."""
    stages = {}
    for name, stage in state.stages.items():
        if stage.status != RUNNING:
            stages[name] = stage
            continue
        jobs = {
            job_name: evolve(job, status=CANCELED) if job.status == RUNNING else job
            for job_name, job in stage.jobs.items()
        }
        parts = (job_part(job.status, job.allows_failure) for job in jobs.values())
        stages[name] = StageState(status=canceled_status(parts), jobs=jobs)
    status = canceled_status(stage.status for stage in stages.values())
    return evolve(state, stages=stages, status=status)
