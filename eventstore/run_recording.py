"""Recording a run: its number, claimed under optimistic concurrency, and its causation thread.

A run's number is claimed by appending its ``RunStarted`` at the exact version of its
pipeline's run-number stream, so two concurrent starts get two different numbers. Every
later event of the run is correlated to its ``run_id`` and caused by the run's previous
event, read from the store: the last event of the run's stream, or its ``RunStarted``.
No recorder keeps anything of a run between calls, so any recorder, in any process, can
record the next step of a run it is handed (:meth:`RunRecorder.continue_run` rebuilds the
handle from the run's id alone).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from attrs import frozen

from eventstore import run_state, streams
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
    StatusValue,
    TriggerValue,
)
from eventstore.errors import (
    InvalidArgumentError,
    StoreError,
    UnknownRunError,
    WrongExpectedVersionError,
)

__all__ = ["START_RUN_DEADLINE_SECONDS", "RunHandle", "RunRecorder", "run_started_event_id"]
from eventstore.job_log import JobLog
from eventstore.recording import EventRecorder, Receipt
from eventstore.records import ANY, Metadata, NewEvent
from eventstore.run_ledger import run_started_event_id
from eventstore.run_state import RunState

# How long start_run keeps competing for a run number before it reports the contention.
START_RUN_DEADLINE_SECONDS = 30.0


@frozen(kw_only=True)
class RunHandle:
    """A started run: what the recorder needs to record the rest of it.

    A value, and all the recorder needs: any recorder on the same store records the run's
    next steps with it, and :meth:`RunRecorder.continue_run` rebuilds it from the ``run_id``.
    """

    run_id: UUID
    run_number: int
    repo_name: str
    repo_url: str
    branch: str
    pipeline_name: str
    started: Receipt


class RunRecorder(EventRecorder):
    """Records the steps of a run, from its start to its end (a base of the Recorder)."""

    def start_run(
        self,
        *,
        repo_name: str,
        repo_url: str,
        branch: str,
        pipeline_name: str,
        commit_hash: str,
        pipeline_config: dict[str, Any],
        trigger: TriggerValue,
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
        found = self._gate.start(run_id)
        while True:
            # A start retried after it was stored keeps its number, and is checked as is.
            number = found[0].run_number if found else self._store.stream_version(stream) + 1
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
            return RunHandle(
                run_id=run_id,
                run_number=receipt.stream_version,
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline_name,
                started=receipt,
            )

    def continue_run(self, run_id: UUID) -> RunHandle:
        """Return the handle of the run ``run_id``, rebuilt from its ``RunStarted`` in the store.

        For a run started in another process (or by an earlier one): the handle records
        the run's next steps exactly as the one :meth:`start_run` returned. The run is
        found by the ``event_id`` :meth:`start_run` gives its ``RunStarted``
        (:func:`run_started_event_id`); a run whose ``RunStarted`` was emitted with an id of
        its own choosing is not found. Raises :class:`UnknownRunError` naming the
        ``run_id`` when no such run was started, :class:`InvalidArgumentError` when
        ``run_id`` is not a UUID.
        """
        if not isinstance(run_id, UUID):
            raise InvalidArgumentError(
                "run_id", f"expected a UUID, got {type(run_id).__name__}", run_id
            )
        found = self._gate.start(run_id)
        if found is None:
            raise UnknownRunError(run_id)
        event, stored = found
        return RunHandle(
            run_id=run_id,
            run_number=event.run_number,
            repo_name=event.repo_name,
            repo_url=event.repo_url,
            branch=event.branch,
            pipeline_name=event.pipeline_name,
            started=Receipt(
                event_id=stored.event_id,
                stream_id=stored.stream_id,
                position=stored.position,
                stream_version=stored.stream_version,
                already_stored=True,
            ),
        )

    def _record_in_run(
        self,
        run: RunHandle,
        event: DomainEvent,
        event_id: UUID | None = None,
        known: RunState | None = None,
    ) -> Receipt:
        """Record a step of ``run``, caused by the run's latest event as the store holds it."""
        event_id = event_id or self._new_id()

        def record_for(state: RunState | None) -> NewEvent:
            causation = state.last_event_id if state else run.started.event_id
            metadata = Metadata(
                correlation_id=run.run_id, causation_id=causation, actor=self._actor
            )
            return self._new_record(event, event_id, metadata)

        return self._append(event, event_id, record_for, ANY, known)

    def start_stage(self, run: RunHandle, stage_name: str) -> Receipt:
        """Record that a stage of ``run`` started."""
        return self._record_in_run(run, StageStarted(run_id=run.run_id, stage_name=stage_name))

    def finish_stage(self, run: RunHandle, stage_name: str, status: StatusValue) -> Receipt:
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
        attempt: int | None = None,
    ) -> Receipt:
        """Record that a job of ``run`` started, or started again (a retry).

        ``attempt`` defaults to the job's next, as the store holds the run: 1 for a job
        that has not run, one more than its last attempt once that attempt has ended.
        """
        known = None
        if attempt is None:  # read the run once: for the job's attempts and for the check
            known = self._gate.state(run.run_id)
            job = run_state.job_of(known, stage_name, job_name) if known else None
            attempt = run_state.next_attempt(job)
        return self._record_in_run(
            run,
            JobStarted(
                run_id=run.run_id,
                stage_name=stage_name,
                job_name=job_name,
                allows_failure=allows_failure,
                attempt=attempt,
            ),
            known=known,
        )

    def append_log(
        self,
        run: RunHandle,
        stage_name: str,
        job_name: str,
        *,
        chunk_index: int,
        content: str,
        attempt: int | None = None,
        event_id: UUID | None = None,
    ) -> Receipt:
        """Record chunk ``chunk_index`` of a job's log (each attempt's are numbered 0, 1, 2 …).

        For callers that number their chunks; :meth:`job_log` numbers them itself.
        ``attempt`` defaults to the job's latest, as the store holds it. A chunk sent
        again with the same text appends nothing; with other text, or out of order, it
        is refused (:class:`~eventstore.errors.LifecycleError`). ``event_id`` makes a
        retry idempotent, as for :meth:`record`.
        """
        known = None
        if attempt is None:  # read the run once: for its latest attempt and for the check
            known = self._gate.state(run.run_id)
            job = run_state.job_of(known, stage_name, job_name) if known else None
            attempt = job.attempt if job else 1
        return self._record_in_run(
            run,
            JobLogChunkAppended(
                run_id=run.run_id,
                stage_name=stage_name,
                job_name=job_name,
                chunk_index=chunk_index,
                content=content,
                attempt=attempt,
            ),
            event_id,
            known,
        )

    def job_log(self, run: RunHandle, stage_name: str, job_name: str) -> JobLog:
        """Return a writer of a job's log whose ``write(content)`` numbers the chunks itself.

        It writes to the job's latest attempt, after the last chunk the store holds of
        it (0 if none), as read now: a log continued from another process, or after a
        restart, goes on where it stopped. One writer per job at a time.
        """
        state = self._gate.state(run.run_id)
        job = run_state.job_of(state, stage_name, job_name) if state else None
        attempt = job.attempt if job else 1

        def append(chunk_index: int, content: str, event_id: UUID) -> Receipt:
            return self.append_log(
                run,
                stage_name,
                job_name,
                chunk_index=chunk_index,
                content=content,
                attempt=attempt,
                event_id=event_id,
            )

        next_index = len(job.chunks) if job else 0
        return JobLog(
            append, run.run_id, stage_name, job_name, next_index=next_index, attempt=attempt
        )

    def finish_job(
        self, run: RunHandle, stage_name: str, job_name: str, status: StatusValue
    ) -> Receipt:
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

    def finish_run(self, run: RunHandle, status: StatusValue) -> Receipt:
        """Record that ``run`` ended with ``status``."""
        return self._record_in_run(
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
