"""Plays the demo's CI day through the :class:`Recorder`, on a clock and ids of its own.

Both are fixed: the day starts at :data:`DAY_START` and draws its ids from
:class:`~cirec.demo.ids.DayIds`, so every play offers the store byte-identical events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from attrs import frozen

from cirec.demo.day import (
    ACTOR,
    API,
    MAIN,
    PIPELINES,
    RUNS,
    SESSIONS,
    WEB,
    WEB_CI,
    Job,
    Pipeline,
    Repo,
    Run,
)
from cirec.demo.ids import DayIds
from eventstore.catalog import Status
from eventstore.recorder import Receipt, Recorder, RunHandle
from eventstore.store import EventStore

DAY_START: Final = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
"""When the demo's day starts: a fixed moment, so a rerun records the same times."""


class DayClock:
    """The emitters' clock of the day: starts at ``start`` and moves on at every event.

    Each reading is ``step`` later than the one before, and :meth:`skip` jumps ahead
    (between runs), so runs take minutes and the day spreads over hours. The readings
    depend on nothing but the calls made, never on the time of the play.
    """

    def __init__(
        self, start: datetime = DAY_START, step: timedelta = timedelta(seconds=23)
    ) -> None:
        self._now = start
        self._step = step

    def __call__(self) -> datetime:
        """Return the next moment of the day."""
        self._now += self._step
        return self._now

    def skip(self, minutes: int) -> None:
        """Let ``minutes`` pass without an event."""
        self._now += timedelta(minutes=minutes)


@frozen
class PlayedDay:
    """What a play of the day stored: a receipt per event, and the day's runs, in order."""

    receipts: tuple[Receipt, ...]
    runs: tuple[RunHandle, ...]

    @property
    def appended(self) -> int:
        """How many events this play stored (0 when the store held the whole day already)."""
        return sum(not receipt.already_stored for receipt in self.receipts)


def play_day(store: EventStore) -> PlayedDay:
    """Record the whole day into ``store``, with the same ids and times at every play.

    Playing it again on the same store stores nothing new: every event is offered with
    the id it was stored under, and each run is started with its own run id, so it keeps
    the run number it was first given.
    """
    clock = DayClock()
    recorder = Recorder(store, actor=ACTOR, clock=clock, new_id=DayIds())
    receipts = [_open_session(recorder, *session) for session in SESSIONS]
    for repo, branch, pipeline in PIPELINES:
        receipts += _validate(recorder, repo, branch, pipeline, "a1c3e5f7")
    receipts.append(
        recorder.pipeline_validation_failed(
            repo_name=WEB.name,
            repo_url=WEB.url,
            branch=MAIN,
            pipeline_file_name=WEB_CI.file_name,
            commit_hash="c0ffee12",
            errors=("jobs.e2e.stage: unknown stage 'tests'; the stages are build, test",),
            pipeline_name=WEB_CI.name,
        )
    )
    receipts += _validate(recorder, WEB, MAIN, WEB_CI, "c9e8d7f6")
    runs = []
    for run in RUNS:
        clock.skip(47)
        handle, run_receipts = _play_run(recorder, run)
        runs.append(handle)
        receipts += run_receipts
    receipts.append(_access(recorder, "alice", "a8f6e4d2"))
    return PlayedDay(tuple(receipts), tuple(runs))


def _open_session(recorder: Recorder, user: str, repo: Repo, branch: str, commit: str) -> Receipt:
    return recorder.open_session(
        user,
        repo_name=repo.name,
        repo_url=repo.url,
        branch=branch,
        commit_hash=commit,
        is_remote=True,
    )


def _access(recorder: Recorder, user: str, commit: str) -> Receipt:
    return recorder.access_session(
        user, repo_name=API.name, repo_url=API.url, branch=MAIN, commit_hash=commit, is_remote=True
    )


def _validate(
    recorder: Recorder, repo: Repo, branch: str, pipeline: Pipeline, commit: str
) -> list[Receipt]:
    where = {"repo_name": repo.name, "repo_url": repo.url, "branch": branch}
    return [
        recorder.pipeline_validated(
            **where,
            pipeline_file_name=pipeline.file_name,
            pipeline_name=pipeline.name,
            pipeline_config=pipeline.config,
            commit_hash=commit,
        ),
        recorder.activate_pipeline(**where, pipeline_name=pipeline.name),
    ]


def _play_run(recorder: Recorder, run: Run) -> tuple[RunHandle, list[Receipt]]:
    handle = recorder.start_run(
        repo_name=run.repo.name,
        repo_url=run.repo.url,
        branch=run.branch,
        pipeline_name=run.pipeline.name,
        commit_hash=run.commit,
        pipeline_config=run.pipeline.config,
        trigger=run.trigger,
        actor=run.actor,
    )
    return handle, [handle.started, *_play_stages(recorder, run, handle)]


def _play_stages(recorder: Recorder, run: Run, handle: RunHandle) -> list[Receipt]:
    receipts: list[Receipt] = []
    for stage, jobs in run.pipeline.stages:
        receipts.append(recorder.start_stage(handle, stage))
        if stage == run.cancel_in:
            return [*receipts, *_cancel(recorder, handle, stage, jobs[0], run.actor)]
        statuses = [Status.FAILED if job.name in run.failing else Status.SUCCESS for job in jobs]
        for job, status in zip(jobs, statuses, strict=True):
            receipts += _job(recorder, handle, stage, job, status)
        failed = any(
            s is Status.FAILED and not job.allows_failure
            for job, s in zip(jobs, statuses, strict=True)
        )
        stage_status = Status.FAILED if failed else Status.SUCCESS
        receipts.append(recorder.finish_stage(handle, stage, stage_status))
        if failed:  # later stages are skipped, as GitLab and GitHub do
            return [*receipts, recorder.finish_run(handle, Status.FAILED)]
    return [*receipts, recorder.finish_run(handle, Status.SUCCESS)]


def _job(recorder: Recorder, run: RunHandle, stage: str, job: Job, status: Status) -> list[Receipt]:
    output = job.fails if status is Status.FAILED else job.passes
    return [
        recorder.start_job(run, stage, job.name, allows_failure=job.allows_failure),
        recorder.append_log(run, stage, job.name, chunk_index=0, content=f"$ {job.script}\n"),
        recorder.append_log(run, stage, job.name, chunk_index=1, content=f"{output}\n"),
        recorder.finish_job(run, stage, job.name, status),
    ]


def _cancel(recorder: Recorder, run: RunHandle, stage: str, job: Job, actor: str) -> list[Receipt]:
    return [
        recorder.start_job(run, stage, job.name),
        recorder.append_log(run, stage, job.name, chunk_index=0, content=f"$ {job.script}\n"),
        recorder.cancel_run(run, reason=f"canceled by {actor}: wrong cluster"),
    ]
