"""A run's lifecycle: its state, derived from its events, and what that state forbids next.

A run is an aggregate: its ``RunStarted`` (in its pipeline's run-number stream) and the
events of its own stream. :func:`opened` and :func:`advance` fold them into a
:class:`RunState`; :func:`check` tells whether one more event may follow, and raises
:class:`~eventstore.errors.LifecycleError` naming the field at fault when it may not.
The rules are those of ``docs/events.md`` ("A run's lifecycle"):

* every event of a run comes after its start, and nothing but a log chunk after its end;
* a stage starts once, and finishes once, after all its jobs have ended;
* a job starts in a running stage, as attempt 1, and again only once its last attempt
  ended, as the next attempt; it finishes once per attempt;
* log chunks belong to the job's latest attempt and are numbered 0, 1, 2 … without gaps;
  a chunk sent again with the same text is a retry (nothing is appended), with other text
  it is refused;
* a status the engine gives a stage or a run must be the one its parts give it
  (:mod:`eventstore.status_rule`); a run ends naming the repository, branch and pipeline
  it started with.

Everything here is pure. :func:`advance` is total: events that no rule would accept
today (a log written before the rules existed) are folded as the read side folds them.
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
from eventstore.errors import LifecycleError
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


@frozen
class Retry:
    """A log chunk sent again: the event ``event_id`` holds its text already."""

    event_id: UUID


def opened(start: RunStarted, start_event_id: UUID) -> RunState:
    """Return the state of a run that has just started: running, no stages."""
    return RunState(start=start, status=RUNNING, stages={}, version=0, last_event_id=start_event_id)


def digest(content: str) -> bytes:
    """Return the digest by which a chunk's text is told from another's."""
    return hashlib.blake2b(content.encode(), digest_size=16).digest()


def check(state: RunState, event: RunEvent) -> Retry | None:
    """Raise :class:`LifecycleError` unless ``event`` may follow ``state``.

    Returns a :class:`Retry` for a log chunk already stored with the same text (nothing
    should be appended), None for an event to append.
    """
    refuse = _Refusal(event)
    if isinstance(event, JobLogChunkAppended):
        return _check_chunk(state, event, refuse)
    if state.status != RUNNING:
        refuse("type", f"the run has ended ({state.status}); only log chunks may come after")
    if isinstance(event, StageStarted):
        if event.stage_name in state.stages:
            refuse("data.stage_name", f"stage {event.stage_name!r} has started already")
    elif isinstance(event, StageFinished):
        _check_stage_finished(state, event, refuse)
    elif isinstance(event, JobStarted):
        _check_job_started(state, event, refuse)
    elif isinstance(event, JobFinished):
        job = job_of(state, event.stage_name, event.job_name)
        if job is None:
            refuse(
                "data.job_name",
                f"job {event.job_name!r} of stage {event.stage_name!r} never started",
            )
        elif job.status != RUNNING:
            refuse(
                "data.job_name",
                f"attempt {job.attempt} of job {event.job_name!r} has ended already ({job.status})",
            )
    elif isinstance(event, RunFinished | RunCanceled):
        _check_run_ended(state, event, refuse)
    return None


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
            moved, event.stage_name, evolve(stage, status=_stage_status(stage, event.status.value))
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
        return evolve(moved, status=_run_status(state, event.status.value))
    return moved


class _Refusal:
    """Raises the :class:`LifecycleError` of one event."""

    def __init__(self, event: RunEvent) -> None:
        self._event = event

    def __call__(self, field: str, reason: str) -> None:
        value = _value_at(self._event, field)
        raise LifecycleError(
            field, reason, value, event_type=type(self._event).__name__, run_id=self._event.run_id
        )


def _value_at(event: RunEvent, field: str) -> object:
    if field == "type":
        return type(event).__name__
    name = field.removeprefix("data.")
    value = getattr(event, name, None)
    return value.value if isinstance(value, Status) else value


def _check_chunk(state: RunState, event: JobLogChunkAppended, refuse: _Refusal) -> Retry | None:
    job = job_of(state, event.stage_name, event.job_name)
    if job is None:
        refuse(
            "data.job_name", f"job {event.job_name!r} of stage {event.stage_name!r} never started"
        )
        return None
    if event.attempt != job.attempt:
        refuse("data.attempt", f"the latest attempt of job {event.job_name!r} is {job.attempt}")
    following = len(job.chunks)
    if event.chunk_index > following:
        refuse(
            "data.chunk_index",
            f"the next chunk of attempt {job.attempt} of job "
            f"{event.job_name!r} is {following}; chunks come in order, without gaps",
        )
    if event.chunk_index == following:
        return None
    stored_digest, stored_id = job.chunks[event.chunk_index]
    if stored_digest != digest(event.content):
        refuse(
            "data.content",
            f"chunk {event.chunk_index} of attempt {job.attempt} of job "
            f"{event.job_name!r} is stored with other text",
        )
    return Retry(stored_id)


def _check_stage_finished(state: RunState, event: StageFinished, refuse: _Refusal) -> None:
    stage = state.stages.get(event.stage_name)
    if stage is None:
        refuse("data.stage_name", f"stage {event.stage_name!r} never started")
        return
    if stage.status != RUNNING:
        refuse(
            "data.stage_name", f"stage {event.stage_name!r} has finished already ({stage.status})"
        )
    running = sorted(name for name, job in stage.jobs.items() if job.status == RUNNING)
    if running:
        refuse(
            "data.stage_name", f"job {running[0]!r} of stage {event.stage_name!r} is still running"
        )
    derived = _stage_status(stage, event.status.value)
    if derived != event.status.value:
        refuse(
            "data.status",
            f"the jobs of stage {event.stage_name!r} give it {derived!r}{_because(stage)}",
        )


def _check_job_started(state: RunState, event: JobStarted, refuse: _Refusal) -> None:
    stage = state.stages.get(event.stage_name)
    if stage is None:
        refuse("data.stage_name", f"stage {event.stage_name!r} never started")
        return
    if stage.status != RUNNING:
        refuse("data.stage_name", f"stage {event.stage_name!r} has finished ({stage.status})")
    job = stage.jobs.get(event.job_name)
    if job is None:
        if event.attempt != 1:
            refuse(
                "data.attempt", f"job {event.job_name!r} has not run before: its first attempt is 1"
            )
        return
    if job.status == RUNNING:
        refuse("data.job_name", f"attempt {job.attempt} of job {event.job_name!r} is still running")
    if event.attempt != job.attempt + 1:
        refuse(
            "data.attempt",
            f"job {event.job_name!r} ran {job.attempt} time(s): its next "
            f"attempt is {job.attempt + 1}",
        )


def _check_run_ended(state: RunState, event: RunFinished | RunCanceled, refuse: _Refusal) -> None:
    start = state.start
    for name in ("repo_name", "repo_url", "branch", "pipeline_name"):
        if getattr(event, name) != getattr(start, name):
            refuse(f"data.{name}", f"the run started with {name} {getattr(start, name)!r}")
    if isinstance(event, RunCanceled):
        return
    running = sorted(name for name, stage in state.stages.items() if stage.status == RUNNING)
    if running:
        refuse("type", f"stage {running[0]!r} is still running; cancel the run to end it now")
    derived = _run_status(state, event.status.value)
    if derived != event.status.value:
        failed = sorted(n for n, s in state.stages.items() if s.status != Status.SUCCESS.value)
        why = f" (stage {failed[0]!r} is {state.stages[failed[0]].status})" if failed else ""
        refuse("data.status", f"the stages of the run give it {derived!r}{why}")


def _because(stage: StageState) -> str:
    for name, job in sorted(stage.jobs.items()):
        part = job_part(job.status, job.allows_failure)
        if part != Status.SUCCESS.value:
            return f" (job {name!r} {job.status})"
    return ""


def _stage_status(stage: StageState, given: str) -> str:
    """Return the status its jobs give a stage; a stage without jobs takes ``given``."""
    if not stage.jobs:
        return given
    return composite(job_part(job.status, job.allows_failure) for job in stage.jobs.values())


def _run_status(state: RunState, given: str) -> str:
    """Return the status its stages give a run; a run without stages takes ``given``."""
    if not state.stages:
        return given
    return composite(stage.status for stage in state.stages.values())


def job_of(state: RunState, stage_name: str, job_name: str) -> JobState | None:
    """Return the job ``job_name`` of stage ``stage_name``, or None if it never started."""
    stage = state.stages.get(stage_name)
    return None if stage is None else stage.jobs.get(job_name)


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
