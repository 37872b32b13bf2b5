"""The recorder: the API a CI engine calls, one method per step of the CI lifecycle.

It fills in what the engine should not have to: a fresh ``event_id`` per event, the
``occurred_at`` time, and the metadata that threads a run together (every event of a run
is correlated to its ``run_id`` and caused by the run's previous event, as the store
holds it, so a run may be recorded by several recorders in turn). Every event is
validated as it is built, before anything is appended.

The steps are grouped by job: the generic :meth:`~Recorder.record` and
:meth:`~Recorder.emit` (:mod:`eventstore.recording`), a run's steps
(:mod:`eventstore.run_recording`), and here the sessions and pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventstore.catalog import (
    PipelineActivated,
    PipelineDeactivated,
    PipelineValidated,
    PipelineValidationFailed,
    SessionAccessed,
    SessionOpened,
)
from eventstore.clock import utc_now
from eventstore.codec import Codec
from eventstore.job_log import JobLog
from eventstore.recording import Receipt, expected_version_for
from eventstore.run_gate import RunGate
from eventstore.run_recording import (
    START_RUN_DEADLINE_SECONDS,
    RunHandle,
    RunRecorder,
    run_started_event_id,
)
from eventstore.store import EventStore

__all__ = [
    "START_RUN_DEADLINE_SECONDS",
    "JobLog",
    "Receipt",
    "Recorder",
    "RunHandle",
    "expected_version_for",
    "run_started_event_id",
]


class Recorder(RunRecorder):
    """Records the CI lifecycle into an :class:`EventStore`; safe to use from many processes.

    It keeps nothing of a run between calls: every step is recorded from the handle and
    the store alone, so recorders in several processes may record one run's steps in turn.
    """

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
        self._codec = codec or Codec()
        self._gate = RunGate(store, self._codec)
        self._actor = actor
        self._clock = clock
        self._new_id = new_id

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
