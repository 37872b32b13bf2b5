"""An independent model of what the write side accepts of a run, from ``docs/events.md`` alone.

Written from the rules table of "A run's lifecycle", "The status rule" and the envelope's
idempotency rule, without ``eventstore.lifecycle`` or ``eventstore.status_rule``: a second
implementation, deliberately plain, to check the write side's verdicts against.

Feed :meth:`Acceptance.offer` every event an engine sends, in the order sent, with the
``event_id`` it carries. It predicts an :class:`Accept` (and whether something is appended)
or a :class:`Refuse` with every field a broken rule names. The docs give no precedence
when one event breaks several rules, so any of those fields is a right answer.
"""

from __future__ import annotations

import uuid
from typing import Final

from attrs import define, field, frozen

from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunCanceled,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
)

RUNNING: Final = "running"
SUCCESS: Final = "success"
FAILED: Final = "failed"
CANCELED: Final = "canceled"
ENDING_FIELDS: Final = ("repo_name", "repo_url", "branch", "pipeline_name")
"""What a run's end must name as its start did."""


@frozen
class Accept:
    """The event is taken; ``appended`` is False for a retry (nothing new is stored)."""

    appended: bool


@frozen
class Refuse:
    """The event is refused; the error names one of ``fields``."""

    fields: frozenset[str]


Prediction = Accept | Refuse


@define
class Job:
    """A job's latest attempt: how it stands, whether it may fail, the text of its chunks."""

    attempt: int
    status: str
    allows_failure: bool
    chunks: list[str] = field(factory=list)

    def part(self) -> str:
        """Return what the job gives its stage: an allowed failure counts as a success."""
        return SUCCESS if self.status == FAILED and self.allows_failure else self.status


@define
class Stage:
    """A stage and its jobs, by name."""

    status: str
    jobs: dict[str, Job] = field(factory=dict)


@define
class Run:
    """A started run: its start, how it stands, its stages by name."""

    start: RunStarted
    status: str = RUNNING
    stages: dict[str, Stage] = field(factory=dict)


def composite(parts: list[str]) -> str:
    """Return failed if a part failed, else canceled if one is not a success, else success."""
    if FAILED in parts:
        return FAILED
    if any(part != SUCCESS for part in parts):
        return CANCELED
    return SUCCESS


def stage_status(stage: Stage, given: str) -> str:
    """Return the status a stage's jobs give it; a stage without jobs takes ``given``."""
    if not stage.jobs:
        return given
    return composite([job.part() for job in stage.jobs.values()])


def run_status(run: Run, given: str) -> str:
    """Return the status a run's stages give it; a run without stages takes ``given``."""
    if not run.stages:
        return given
    return composite([stage.status for stage in run.stages.values()])


def started_event_id(run_id: uuid.UUID) -> uuid.UUID:
    """Return the only ``event_id`` a run's ``RunStarted`` may carry (docs: ``uuid5``)."""
    return uuid.uuid5(run_id, "RunStarted")


class Acceptance:
    """The runs as the accepted events make them, and the verdict on each event offered."""

    def __init__(self) -> None:
        self.runs: dict[uuid.UUID, Run] = {}
        self._stored: dict[uuid.UUID, str] = {}
        """The stream of every stored event, by ``event_id``."""

    def offer(self, event_id: uuid.UUID, event: DomainEvent) -> Prediction:
        """Return the verdict on ``event`` sent with ``event_id``; apply it if appended."""
        if isinstance(event, RunStarted):
            # Its own rule: the same start is a retry, another one under its id refused.
            prediction = self._start(event_id, event)
        elif self._stored.get(event_id) == event.stream_id:
            return Accept(appended=False)  # a retry: the stored event wins
        else:
            prediction = self._run_event(event)
        if prediction == Accept(appended=True):
            self._stored[event_id] = event.stream_id
            self._apply(event)
        return prediction

    def failed_jobs(self, run_id: uuid.UUID) -> list[tuple[str, str]]:
        """Return the (stage, job) whose latest attempt failed without allowing it."""
        run = self.runs.get(run_id)
        if run is None:
            return []
        return [
            (stage_name, job_name)
            for stage_name, stage in run.stages.items()
            for job_name, job in stage.jobs.items()
            if job.status == FAILED and not job.allows_failure
        ]

    # -- the rules ------------------------------------------------------------------------

    def _start(self, event_id: uuid.UUID, event: RunStarted) -> Prediction:
        broken = set()
        if event_id != started_event_id(event.run_id):
            broken.add("event_id")
        run = self.runs.get(event.run_id)
        if run is not None and run.start != event:
            broken.add("data.run_id")
        if broken:
            return Refuse(frozenset(broken))
        return Accept(appended=run is None)

    def _run_event(self, event: DomainEvent) -> Prediction:
        run_id: uuid.UUID = getattr(event, "run_id")  # noqa: B009 (every run event has one)
        run = self.runs.get(run_id)
        if run is None:
            return Refuse(frozenset({"data.run_id"}))
        if isinstance(event, JobLogChunkAppended):
            return self._chunk(run, event)
        broken = set()
        if run.status != RUNNING:
            broken.add("type")
        if isinstance(event, StageStarted):
            if event.stage_name in run.stages:
                broken.add("data.stage_name")
        elif isinstance(event, StageFinished):
            broken |= self._stage_finished(run, event)
        elif isinstance(event, JobStarted):
            broken |= self._job_started(run, event)
        elif isinstance(event, JobFinished):
            job = self._job(run, event.stage_name, event.job_name)
            if job is None or job.status != RUNNING:
                broken.add("data.job_name")
        elif isinstance(event, RunFinished):
            if any(stage.status == RUNNING for stage in run.stages.values()):
                broken.add("type")
            if run_status(run, event.status.value) != event.status.value:
                broken.add("data.status")
            broken |= self._ending(run, event)
        elif isinstance(event, RunCanceled):
            broken |= self._ending(run, event)
        return Refuse(frozenset(broken)) if broken else Accept(appended=True)

    @staticmethod
    def _job(run: Run, stage_name: str, job_name: str) -> Job | None:
        stage = run.stages.get(stage_name)
        return None if stage is None else stage.jobs.get(job_name)

    def _chunk(self, run: Run, event: JobLogChunkAppended) -> Prediction:
        job = self._job(run, event.stage_name, event.job_name)
        if job is None:
            return Refuse(frozenset({"data.job_name"}))
        if event.attempt != job.attempt:
            return Refuse(frozenset({"data.attempt"}))
        if event.chunk_index > len(job.chunks):
            return Refuse(frozenset({"data.chunk_index"}))
        if event.chunk_index == len(job.chunks):
            return Accept(appended=True)
        if job.chunks[event.chunk_index] != event.content:
            return Refuse(frozenset({"data.content"}))
        return Accept(appended=False)  # the same text at a stored index: a retry

    @staticmethod
    def _stage_finished(run: Run, event: StageFinished) -> set[str]:
        stage = run.stages.get(event.stage_name)
        if stage is None:
            return {"data.stage_name"}
        broken = set()
        if stage.status != RUNNING:
            broken.add("data.stage_name")
        if any(job.status == RUNNING for job in stage.jobs.values()):
            broken.add("data.stage_name")
        if stage_status(stage, event.status.value) != event.status.value:
            broken.add("data.status")
        return broken

    @staticmethod
    def _job_started(run: Run, event: JobStarted) -> set[str]:
        broken = set()
        stage = run.stages.get(event.stage_name)
        if stage is None or stage.status != RUNNING:
            broken.add("data.stage_name")
        job = None if stage is None else stage.jobs.get(event.job_name)
        if job is None:
            if event.attempt != 1:
                broken.add("data.attempt")
            return broken
        if job.status == RUNNING:
            broken.add("data.job_name")
        if event.attempt != job.attempt + 1:
            broken.add("data.attempt")
        return broken

    @staticmethod
    def _ending(run: Run, event: RunFinished | RunCanceled) -> set[str]:
        return {
            f"data.{name}"
            for name in ENDING_FIELDS
            if getattr(event, name) != getattr(run.start, name)
        }

    # -- what an appended event changes -------------------------------------------------------

    def _apply(self, event: DomainEvent) -> None:
        if isinstance(event, RunStarted):
            self.runs[event.run_id] = Run(start=event)
            return
        run = self.runs[getattr(event, "run_id")]  # noqa: B009 (every run event has one)
        if isinstance(event, StageStarted):
            run.stages[event.stage_name] = Stage(status=RUNNING)
        elif isinstance(event, StageFinished):
            stage = run.stages[event.stage_name]
            stage.status = stage_status(stage, event.status.value)
        elif isinstance(event, JobStarted):
            run.stages[event.stage_name].jobs[event.job_name] = Job(
                attempt=event.attempt, status=RUNNING, allows_failure=event.allows_failure
            )
        elif isinstance(event, JobLogChunkAppended):
            run.stages[event.stage_name].jobs[event.job_name].chunks.append(event.content)
        elif isinstance(event, JobFinished):
            run.stages[event.stage_name].jobs[event.job_name].status = event.status.value
        elif isinstance(event, RunFinished):
            run.status = run_status(run, event.status.value)
        elif isinstance(event, RunCanceled):
            _cancel(run)


def _cancel(run: Run) -> None:
    """End what runs as canceled; a stage, and the run, read failed if a failure decides them."""
    for stage in run.stages.values():
        if stage.status != RUNNING:
            continue
        for job in stage.jobs.values():
            if job.status == RUNNING:
                job.status = CANCELED
        parts = [job.part() for job in stage.jobs.values()]
        stage.status = FAILED if FAILED in parts else CANCELED
    statuses = [stage.status for stage in run.stages.values()]
    run.status = FAILED if FAILED in statuses else CANCELED
