"""Recording a run: its number, claimed under optimistic concurrency, and its causation thread.

A run's number is claimed by appending its ``RunStarted`` at the exact version of its
pipeline's run-number stream, so two concurrent starts get two different numbers. Every
later event of the run is correlated to its ``run_id`` and caused by the run's previous
event from the same recorder: that thread is the run-handle bookkeeping kept here.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid5

from attrs import frozen

from eventstore import streams
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
    Status,
    Trigger,
)
from eventstore.errors import StoreError, WrongExpectedVersionError
from eventstore.recording import EventRecorder, Receipt

# How long start_run keeps competing for a run number before it reports the contention.
START_RUN_DEADLINE_SECONDS = 30.0


def run_started_event_id(run_id: UUID) -> UUID:
    """Return the ``event_id`` of the ``RunStarted`` of ``run_id``: always the same for a run.

    Derived from the run, so a retried start of the same run is the same event, and an
    emitter that chose the run's id knows its start's event id without asking the store.
    """
    return uuid5(run_id, "RunStarted")


@frozen(kw_only=True)
class RunHandle:
    """A started run: what the recorder needs to record the rest of it."""

    run_id: UUID
    run_number: int
    repo_name: str
    repo_url: str
    branch: str
    pipeline_name: str
    started: Receipt


class RunRecorder(EventRecorder):
    """Records the steps of a run, from its start to its end (a base of the Recorder)."""

    _last_event_of_run: dict[UUID, UUID]
    """The last event this recorder recorded for each run it started and has not finished."""

    def start_run(
        self,
        *,
        repo_name: str,
        repo_url: str,
        branch: str,
        pipeline_name: str,
        commit_hash: str,
        pipeline_config: dict[str, Any],
        trigger: Trigger,
        actor: str | None = None,
        run_id: UUID | None = None,
    ) -> RunHandle:
        """Start a run: give it a ``run_id`` and the pipeline's next run number.

        The number is claimed by appending ``RunStarted`` at the exact version of the
        pipeline's run-number stream; when another run took that number first, this
        reads the stream again and claims the next one, so concurrent starts always get
        different, consecutive numbers. Passing the same ``run_id`` again after a failed
        call returns the run as first stored.
        """
        run_id = run_id or self._new_id()
        event_id = run_started_event_id(run_id)
        stream = streams.pipeline_stream(repo_name, repo_url, pipeline_name)
        deadline = time.monotonic() + START_RUN_DEADLINE_SECONDS
        while True:
            number = self._store.stream_version(stream) + 1
            event = RunStarted(
                run_id=run_id,
                run_number=number,
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline_name,
                commit_hash=commit_hash,
                pipeline_config=pipeline_config,
                trigger=trigger,
                actor=actor or self._actor,
            )
            try:
                receipt = self.record(
                    event,
                    expected_version=event.expected_version,
                    event_id=event_id,
                    correlation_id=run_id,
                )
            except WrongExpectedVersionError as exc:
                if time.monotonic() > deadline:
                    raise StoreError(
                        self._store.backend, "start_run", f"no run number claimed: {exc}"
                    ) from exc
                continue
            # On a retry the stored event wins: in this stream, run number == version.
            self._last_event_of_run[run_id] = event_id
            return RunHandle(
                run_id=run_id,
                run_number=receipt.stream_version,
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline_name,
                started=receipt,
            )

    def _record_in_run(self, run: RunHandle, event: DomainEvent) -> Receipt:
        receipt = self.record(
            event,
            correlation_id=run.run_id,
            causation_id=self._last_event_of_run.get(run.run_id),
        )
        self._last_event_of_run[run.run_id] = receipt.event_id
        return receipt

    def start_stage(self, run: RunHandle, stage_name: str) -> Receipt:
        """Record that a stage of ``run`` started."""
        return self._record_in_run(run, StageStarted(run_id=run.run_id, stage_name=stage_name))

    def finish_stage(self, run: RunHandle, stage_name: str, status: Status) -> Receipt:
        """Record that a stage of ``run`` ended with ``status``."""
        return self._record_in_run(
            run, StageFinished(run_id=run.run_id, stage_name=stage_name, status=status)
        )

    def start_job(
        self,
        run: RunHandle,
        stage_name: str,
        job_name: str,
        *,
        allows_failure: bool = False,
        attempt: int = 1,
    ) -> Receipt:
        """Record that a job of ``run`` started."""
        return self._record_in_run(
            run,
            JobStarted(
                run_id=run.run_id,
                stage_name=stage_name,
                job_name=job_name,
                allows_failure=allows_failure,
                attempt=attempt,
            ),
        )

    def append_log(
        self, run: RunHandle, stage_name: str, job_name: str, *, chunk_index: int, content: str
    ) -> Receipt:
        """Record the next chunk of a job's log (chunks are numbered 0, 1, 2 …)."""
        return self._record_in_run(
            run,
            JobLogChunkAppended(
                run_id=run.run_id,
                stage_name=stage_name,
                job_name=job_name,
                chunk_index=chunk_index,
                content=content,
            ),
        )

    def finish_job(self, run: RunHandle, stage_name: str, job_name: str, status: Status) -> Receipt:
        """Record that a job of ``run`` ended with ``status``."""
        return self._record_in_run(
            run,
            JobFinished(run_id=run.run_id, stage_name=stage_name, job_name=job_name, status=status),
        )

    def cancel_run(self, run: RunHandle, reason: str | None = None) -> Receipt:
        """Record that ``run`` was canceled; its unfinished stages and jobs end as canceled."""
        return self._record_in_run(
            run,
            RunCanceled(
                run_id=run.run_id,
                repo_name=run.repo_name,
                repo_url=run.repo_url,
                branch=run.branch,
                pipeline_name=run.pipeline_name,
                reason=reason,
            ),
        )

    def finish_run(self, run: RunHandle, status: Status) -> Receipt:
        """Record that ``run`` ended with ``status``; the recorder forgets the run."""
        receipt = self._record_in_run(
            run,
            RunFinished(
                run_id=run.run_id,
                repo_name=run.repo_name,
                repo_url=run.repo_url,
                branch=run.branch,
                pipeline_name=run.pipeline_name,
                status=status,
            ),
        )
        self._last_event_of_run.pop(run.run_id, None)
        return receipt
