"""The ``jobs_history`` projection: one document per run, its stages, jobs and log tails.

Status rules, as GitLab applies them:

* a run, stage or job is ``running`` from its start until it ends;
* a stage's status is derived from its jobs when it ends: ``failed`` if a job failed
  that does not allow failure, else ``canceled`` if a job was canceled, else ``success``
  (a failure that is allowed counts as a success with a warning); a stage with no job
  takes the status its end reports;
* a run's status is derived from its stages the same way when it ends, unless it was
  canceled;
* canceling a run ends every job still running as ``canceled``, and every stage still
  running, and the run, as ``failed`` if a failure decides them, else ``canceled``: a
  cancel never hides a failure (:mod:`eventstore.status_rule`, the rule the write side
  checks statuses by).

``job_logs`` keeps the end of a job's output, as much as the job's share of the run's
log budget allows (:mod:`projections.log_tails`: 64 KiB while a run has at most 64 jobs,
less as it grows, so the document stays within :mod:`projections.sizes`' budget);
``log_truncated_chars`` says how much was cut. The tail is of the job's latest attempt:
a retry starts a new log, and a chunk is taken only as :mod:`projections.log_rule` says
(its attempt's next index), the rule the full-log reader (:mod:`projections.logs`) reads
the event log by, so the tail is always a suffix of that attempt's full log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from attrs import evolve

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
from eventstore.clock import to_epoch_millis
from eventstore.status_rule import canceled_status, composite, job_part
from projections import log_rule
from projections.documents import RUNNING, JobLog, RunDocument, StageLog
from projections.log_tails import job_tail_budget, kept_tail
from projections.projection import Index, Projection, QuerySpec, on

Document = RunDocument | None


def run_started(document: Document, event: RunStarted, at: datetime) -> RunDocument:
    """Open the run's document: ``running``, no stages yet."""
    return RunDocument(
        run_id=event.run_id,
        repo_name=event.repo_name,
        repo_url=event.repo_url,
        branch=event.branch,
        pipeline_name=event.pipeline_name,
        run_number=event.run_number,
        git_commit_hash=event.commit_hash,
        pipeline_config_used=event.pipeline_config,
        status=RUNNING,
        start_time=at,
        completion_time=None,
        logs={},
        trigger=event.trigger.value,
        actor=event.actor,
        duration_ms=None,
        cancel_reason=None,
    )


def stage_started(document: Document, event: StageStarted, at: datetime) -> Document:
    """Add the stage, ``running`` (a stage started again keeps the jobs it had)."""
    if document is None:
        return None
    old = document.logs.get(event.stage_name)
    jobs = old.jobs if old else {}
    stage = StageLog(
        stage_name=event.stage_name,
        stage_status=RUNNING,
        start_time=at,
        completion_time=None,
        jobs=jobs,
    )
    return _with_stage(document, stage)


def stage_finished(document: Document, event: StageFinished, at: datetime) -> Document:
    """End the stage with the status its jobs give it (see the module docs)."""

    def finish(stage: StageLog) -> StageLog:
        outcomes = [_job_part(job) for job in stage.jobs.values()]
        status = composite(outcomes) if outcomes else event.status.value
        return evolve(stage, stage_status=status, completion_time=at)

    return _update_stage(document, event.stage_name, at, finish)


def job_started(document: Document, event: JobStarted, at: datetime) -> Document:
    """Add the job to its stage, ``running``; a retry starts the job again, with a new log.

    The job's attempt is the highest started (:mod:`projections.log_rule`): only a
    higher one empties the log. A new job that halves every job's share of the log
    budget cuts the tails kept.
    """
    if document is None:
        return None
    before = _job_count(document)

    def start(stage: StageLog) -> StageLog:
        old = stage.jobs.get(event.job_name)
        cursor = log_rule.job_started(_cursor(old) if old else None, event.attempt)
        kept = old if old is not None and old.attempt == cursor.attempt else None
        job = JobLog(
            job_name=event.job_name,
            job_status=RUNNING,
            allows_failure=event.allows_failure,
            start_time=at,
            completion_time=None,
            job_logs=kept.job_logs if kept else "",
            attempt=cursor.attempt,
            log_chars=kept.log_chars if kept else 0,
            log_truncated_chars=kept.log_truncated_chars if kept else 0,
            log_chunks=kept.log_chunks if kept else 0,
        )
        return evolve(stage, jobs={**stage.jobs, job.job_name: job})

    started = _with_stage(document, start(_stage_of(document, event.stage_name, at)))
    budget = job_tail_budget(_job_count(started))
    if budget == job_tail_budget(before):
        return started
    return _with_tails_cut(started, budget)


def job_log_chunk_appended(
    document: Document, event: JobLogChunkAppended, at: datetime
) -> Document:
    """Append the chunk to the job's log tail, cutting the tail to the job's share.

    Only a chunk :mod:`projections.log_rule` takes: of the job's attempt, at its next index.
    """
    if document is None:
        return None
    budget = job_tail_budget(_job_count(document))

    def append(job: JobLog) -> JobLog:
        if not log_rule.takes(_cursor(job), event.attempt, event.chunk_index):
            return job
        tail = kept_tail(job.job_logs + event.content, budget)
        total = job.log_chars + len(event.content)
        return evolve(
            job,
            job_logs=tail,
            log_chars=total,
            log_truncated_chars=total - len(tail),
            log_chunks=job.log_chunks + 1,
        )

    return _update_job(document, event.stage_name, event.job_name, at, append)


def job_finished(document: Document, event: JobFinished, at: datetime) -> Document:
    """End the job with its reported status."""

    def finish(job: JobLog) -> JobLog:
        return evolve(job, job_status=event.status.value, completion_time=at)

    return _update_job(document, event.stage_name, event.job_name, at, finish)


def run_canceled(document: Document, event: RunCanceled, at: datetime) -> Document:
    """Cancel every job and stage still running, and the run: a failure stays ``failed``."""
    if document is None:
        return None
    stages = {
        name: _cancel_stage(stage, at) if stage.stage_status == RUNNING else stage
        for name, stage in document.logs.items()
    }
    if document.status == RUNNING:
        status = canceled_status(stage.stage_status for stage in stages.values())
        document = _ended(document, status, at)
    return evolve(document, logs=stages, cancel_reason=event.reason)


def run_finished(document: Document, event: RunFinished, at: datetime) -> Document:
    """End the run with the status its stages give it, unless it was canceled."""
    if document is None:
        return None
    if document.status == Status.CANCELED.value or event.status is Status.CANCELED:
        status = Status.CANCELED.value
    else:
        outcomes = [stage.stage_status for stage in document.logs.values()]
        status = composite(outcomes) if outcomes else event.status.value
    return _ended(document, status, at)


def _cursor(job: JobLog) -> log_rule.LogCursor:
    return log_rule.LogCursor(attempt=job.attempt, taken=job.log_chunks)


def _job_count(document: RunDocument) -> int:
    return sum(len(stage.jobs) for stage in document.logs.values())


def _with_tails_cut(document: RunDocument, budget: int) -> RunDocument:
    """Cut every job's tail to ``budget`` (a tail within it already is kept as it is)."""

    def cut(job: JobLog) -> JobLog:
        tail = kept_tail(job.job_logs, budget)
        if len(tail) == len(job.job_logs):
            return job
        return evolve(job, job_logs=tail, log_truncated_chars=job.log_chars - len(tail))

    stages = {
        name: evolve(stage, jobs={job_name: cut(job) for job_name, job in stage.jobs.items()})
        for name, stage in document.logs.items()
    }
    return evolve(document, logs=stages)


def _ended(document: RunDocument, status: str, at: datetime) -> RunDocument:
    return evolve(
        document,
        status=status,
        completion_time=at,
        duration_ms=to_epoch_millis(at) - to_epoch_millis(document.start_time),
    )


def _cancel_stage(stage: StageLog, at: datetime) -> StageLog:
    jobs = {
        name: evolve(job, job_status=Status.CANCELED.value, completion_time=at)
        if job.job_status == RUNNING
        else job
        for name, job in stage.jobs.items()
    }
    status = canceled_status(_job_part(job) for job in jobs.values())
    return evolve(stage, stage_status=status, completion_time=at, jobs=jobs)


def _job_part(job: JobLog) -> str:
    return job_part(job.job_status, job.allows_failure)


def _with_stage(document: RunDocument, stage: StageLog) -> RunDocument:
    return evolve(document, logs={**document.logs, stage.stage_name: stage})


def _update_stage(
    document: Document, name: str, at: datetime, change: Callable[[StageLog], StageLog]
) -> Document:
    """Apply ``change`` to stage ``name``, opening it first if its start was not recorded."""
    if document is None:
        return None
    return _with_stage(document, change(_stage_of(document, name, at)))


def _stage_of(document: RunDocument, name: str, at: datetime) -> StageLog:
    """Return stage ``name``, or a new one started at ``at`` if its start was not recorded."""
    return document.logs.get(name) or StageLog(
        stage_name=name, stage_status=RUNNING, start_time=at, completion_time=None, jobs={}
    )


def _update_job(
    document: Document,
    stage_name: str,
    job_name: str,
    at: datetime,
    change: Callable[[JobLog], JobLog],
) -> Document:
    """Apply ``change`` to a job that has started; events of an unknown job are ignored."""
    if document is None or stage_name not in document.logs:
        return document
    stage = document.logs[stage_name]
    if job_name not in stage.jobs:
        return document
    job = change(stage.jobs[job_name])
    return _with_stage(document, evolve(stage, jobs={**stage.jobs, job_name: job}))


def run_key(event: RunStarted | RunEvent) -> str:
    """Return the id of the document an event touches: its run's ``run_id``."""
    return str(event.run_id)


BY_PIPELINE = Index(
    "by_pipeline",
    ("repo_name", "repo_url", "pipeline_name", "run_number"),
    descending=frozenset({"run_number"}),
)
"""The runs of a pipeline, newest first: what :meth:`RunQueries.runs` asks for."""

BY_START = Index("by_start", ("start_time",), descending=frozenset({"start_time"}))
"""Every run, latest start first: serves a search that names no repository (its other
conditions are checked on the runs the index walks, in order, until a page is full)."""

BY_REPO_START = Index(
    "by_repo_start", ("repo_name", "start_time"), descending=frozenset({"start_time"})
)
"""The runs of a repository name, latest start first: serves a search that names one."""

JOBS_HISTORY: Projection[RunDocument] = Projection(
    name="jobs_history",
    document_type=RunDocument,
    handlers=(
        on(RunStarted, run_started, run_key),
        on(StageStarted, stage_started, run_key),
        on(StageFinished, stage_finished, run_key),
        on(JobStarted, job_started, run_key),
        on(JobLogChunkAppended, job_log_chunk_appended, run_key),
        on(JobFinished, job_finished, run_key),
        on(RunCanceled, run_canceled, run_key),
        on(RunFinished, run_finished, run_key),
    ),
    queried_by=QuerySpec(
        fields=(
            "repo_name",
            "repo_url",
            "pipeline_name",
            "branch",
            "run_number",
            "status",
            "git_commit_hash",
            "actor",
            "start_time",
        ),
        indexes=(BY_PIPELINE, BY_START, BY_REPO_START),
    ),
)
"""One document per run, keyed by its ``run_id``; queried by repository, pipeline, branch,
run number, status, commit, actor and start time (:mod:`projections.run_queries`)."""
