"""A run's lifecycle: what its state so far allows to come next.

:func:`check` tells whether one more event may follow a run's state
(:mod:`eventstore.run_state`), and raises :class:`~eventstore.errors.LifecycleError`
naming the field at fault when it may not. The rules are those of ``docs/events.md``
("A run's lifecycle"):

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
"""

from __future__ import annotations

from typing import NoReturn
from uuid import UUID

from attrs import frozen

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
from eventstore.catalog.runs import RunEvent
from eventstore.errors import LifecycleError
from eventstore.run_state import (
    JobState,
    RunState,
    StageState,
    digest,
    job_of,
    run_status,
    stage_status,
)
from eventstore.status_rule import RUNNING, job_part


@frozen
class Retry:
    """A log chunk sent again: the event ``event_id`` holds its text already."""

    event_id: UUID


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
        job = _started_job(state, event, refuse)
        if job.status != RUNNING:
            refuse(
                "data.job_name",
                f"attempt {job.attempt} of job {event.job_name!r} has ended already ({job.status})",
            )
    elif isinstance(event, RunFinished | RunCanceled):
        _check_run_ended(state, event, refuse)
    return None


class _Refusal:
    """Raises the :class:`LifecycleError` of one event."""

    def __init__(self, event: RunEvent) -> None:
        self._event = event

    def __call__(self, field: str, reason: str) -> NoReturn:
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


def _started_job(
    state: RunState, event: JobFinished | JobLogChunkAppended, refuse: _Refusal
) -> JobState:
    job = job_of(state, event.stage_name, event.job_name)
    if job is None:
        refuse(
            "data.job_name", f"job {event.job_name!r} of stage {event.stage_name!r} never started"
        )
    return job


def _check_chunk(state: RunState, event: JobLogChunkAppended, refuse: _Refusal) -> Retry | None:
    job = _started_job(state, event, refuse)
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


def _running_stage(
    state: RunState, event: StageFinished | JobStarted, refuse: _Refusal
) -> StageState:
    stage = state.stages.get(event.stage_name)
    if stage is None:
        refuse("data.stage_name", f"stage {event.stage_name!r} never started")
    if stage.status != RUNNING:
        refuse(
            "data.stage_name", f"stage {event.stage_name!r} has finished already ({stage.status})"
        )
    return stage


def _check_stage_finished(state: RunState, event: StageFinished, refuse: _Refusal) -> None:
    stage = _running_stage(state, event, refuse)
    running = sorted(name for name, job in stage.jobs.items() if job.status == RUNNING)
    if running:
        refuse(
            "data.stage_name", f"job {running[0]!r} of stage {event.stage_name!r} is still running"
        )
    derived = stage_status(stage, event.status.value)
    if derived != event.status.value:
        refuse(
            "data.status",
            f"the jobs of stage {event.stage_name!r} give it {derived!r}{_because(stage)}",
        )


def _check_job_started(state: RunState, event: JobStarted, refuse: _Refusal) -> None:
    stage = _running_stage(state, event, refuse)
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
    derived = run_status(state, event.status.value)
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
