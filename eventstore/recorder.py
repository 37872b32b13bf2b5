"""The recorder: the API a CI engine calls, one method per step of the CI lifecycle.

It fills in what the engine should not have to: a fresh ``event_id`` per event, the
``occurred_at`` time, and the metadata that threads a run together (every event of a run
is correlated to its ``run_id`` and caused by the run's previous event from this
recorder). Every event is validated as it is built, before anything is appended.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from attrs import frozen

from eventstore import streams
from eventstore.catalog import (
    DomainEvent,
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    PipelineActivated,
    PipelineDeactivated,
    PipelineValidated,
    PipelineValidationFailed,
    RunCanceled,
    RunFinished,
    RunStarted,
    SessionAccessed,
    SessionOpened,
    StageFinished,
    StageStarted,
    Status,
    Trigger,
)
from eventstore.clock import utc_now
from eventstore.codec import Codec
from eventstore.errors import StoreError, WrongExpectedVersionError
from eventstore.records import ANY, ExpectedVersion, Metadata
from eventstore.store import EventStore

# How long start_run keeps competing for a run number before it reports the contention.
START_RUN_DEADLINE_SECONDS = 30.0


def expected_version_for(event: DomainEvent) -> ExpectedVersion:
    """Return what an emitted ``event`` expects of its stream.

    A ``RunStarted`` claims its ``run_number``, so it needs its pipeline's run-number stream
    at exactly the number before; every other event appends whatever its stream's version.
    """
    return event.expected_version if isinstance(event, RunStarted) else ANY


@frozen
class Receipt:
    """Where an event was stored."""

    event_id: UUID
    stream_id: str
    position: int
    stream_version: int
    already_stored: bool
    """True when the event had been stored by an earlier call (a retry)."""


@frozen
class RunHandle:
    """A started run: what the recorder needs to record the rest of it."""

    run_id: UUID
    run_number: int
    repo_name: str
    repo_url: str
    branch: str
    pipeline_name: str
    started: Receipt


class Recorder:
    """Records the CI lifecycle into an :class:`EventStore`; safe to use from many processes."""

    def __init__(
        self,
        store: EventStore,
        *,
        actor: str,
        codec: Codec | None = None,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self._store = store
        self._actor = actor
        self._codec = codec or Codec()
        self._clock = clock
        self._new_id = new_id
        self._last_event_of_run: dict[UUID, UUID] = {}

    # -- the generic entry points -------------------------------------------------------

    def record(
        self,
        event: DomainEvent,
        *,
        expected_version: ExpectedVersion = ANY,
        event_id: UUID | None = None,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> Receipt:
        """Append one catalog event to its stream; ``event_id`` makes a retry idempotent."""
        event_id = event_id or self._new_id()
        metadata = Metadata(
            correlation_id=correlation_id, causation_id=causation_id, actor=self._actor
        )
        record = self._codec.to_new_event(
            event, event_id=event_id, occurred_at=self._clock(), metadata=metadata
        )
        result = self._store.append(event.stream_id, [record], expected_version)
        return Receipt(
            event_id=event_id,
            stream_id=event.stream_id,
            position=result.positions[0],
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )

    def emit(self, raw: Mapping[str, Any]) -> Receipt:
        """Validate one event in its documented JSON form and append it to its stream.

        A ``RunStarted`` is appended with the expected version its ``run_number`` implies,
        so a wrong or reused run number is refused. Raises :class:`InvalidEventError`
        naming the field at fault; nothing of a rejected event is stored.
        """
        record, event = self._codec.parse_new_event(raw)
        result = self._store.append(event.stream_id, [record], expected_version_for(event))
        return Receipt(
            event_id=record.event_id,
            stream_id=event.stream_id,
            position=result.positions[0],
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )

    # -- sessions -----------------------------------------------------------------------

    def open_session(
        self,
        user_id: str,
        *,
        repo_name: str,
        repo_url: str,
        branch: str,
        commit_hash: str,
        is_remote: bool,
    ) -> Receipt:
        """Record that ``user_id`` started working on a repository."""
        return self.record(
            SessionOpened(
                user_id=user_id,
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                commit_hash=commit_hash,
                is_remote=is_remote,
            )
        )

    def access_session(
        self,
        user_id: str,
        *,
        repo_name: str,
        repo_url: str,
        branch: str,
        commit_hash: str,
        is_remote: bool,
    ) -> Receipt:
        """Record that ``user_id`` used their session again, with the repository as it is now."""
        return self.record(
            SessionAccessed(
                user_id=user_id,
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                commit_hash=commit_hash,
                is_remote=is_remote,
            )
        )

    # -- pipelines ----------------------------------------------------------------------

    def pipeline_validated(
        self,
        *,
        repo_name: str,
        repo_url: str,
        branch: str,
        pipeline_name: str,
        pipeline_file_name: str,
        pipeline_config: dict[str, Any],
        commit_hash: str,
    ) -> Receipt:
        """Record a pipeline file that passed validation at ``commit_hash``."""
        return self.record(
            PipelineValidated(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_name=pipeline_name,
                pipeline_file_name=pipeline_file_name,
                pipeline_config=pipeline_config,
                commit_hash=commit_hash,
            )
        )

    def pipeline_validation_failed(
        self,
        *,
        repo_name: str,
        repo_url: str,
        branch: str,
        pipeline_file_name: str,
        commit_hash: str,
        errors: Sequence[str],
        pipeline_name: str | None = None,
    ) -> Receipt:
        """Record a pipeline file that failed validation (kept in the log only)."""
        return self.record(
            PipelineValidationFailed(
                repo_name=repo_name,
                repo_url=repo_url,
                branch=branch,
                pipeline_file_name=pipeline_file_name,
                commit_hash=commit_hash,
                errors=tuple(errors),
                pipeline_name=pipeline_name,
            )
        )

    def activate_pipeline(
        self, *, repo_name: str, repo_url: str, branch: str, pipeline_name: str
    ) -> Receipt:
        """Record that a pipeline is switched on."""
        return self.record(
            PipelineActivated(
                repo_name=repo_name, repo_url=repo_url, branch=branch, pipeline_name=pipeline_name
            )
        )

    def deactivate_pipeline(
        self, *, repo_name: str, repo_url: str, branch: str, pipeline_name: str
    ) -> Receipt:
        """Record that a pipeline is switched off."""
        return self.record(
            PipelineDeactivated(
                repo_name=repo_name, repo_url=repo_url, branch=branch, pipeline_name=pipeline_name
            )
        )

    # -- runs ---------------------------------------------------------------------------

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
        # Derived from the run, so a retried start of the same run is the same event.
        event_id = uuid5(run_id, "RunStarted")
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
