"""The documents of the three read models, as frozen attrs classes.

Field names and meanings are those of the user's schema (``seed/datastore-schema.md``);
the fields it lacks and real CI systems need are marked "ours" in their docs and listed
in ``docs/read-models.md``. Maps keyed by a user's name (``pipelines``, ``logs``,
``jobs``) hold that name exactly; a store encodes it as it must.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID

from attrs import frozen

RUNNING: Final = "running"
"""Ours: the status of a run, stage or job before its final one."""


@frozen(kw_only=True)
class SessionDocument:
    """``sessions``: one per ``user_id``, the repository state of their latest command."""

    user_id: str
    repo_name: str
    repo_url: str
    branch: str
    commit_hash: str
    is_remote: bool
    time: datetime
    """Timestamp of the last session access."""
    opened_at: datetime
    """Ours: when the session was (last) opened."""


@frozen(kw_only=True)
class PipelineEntry:
    """One pipeline of a ``repo_configs`` document, keyed by its ``pipeline_name``."""

    pipeline_name: str
    pipeline_file_name: str
    pipeline_config: dict[str, Any]
    """The last validated configuration (failed validations never reach it)."""
    job_run_history: tuple[UUID, ...]
    """The ``run_id`` of every run of this pipeline on this branch, oldest first."""
    active: bool
    running: bool
    """True while any run of this pipeline on this branch is in progress."""
    last_commit_hash: str
    """The commit the configuration was last validated at."""
    validated_at: datetime
    """Ours: when the configuration was last validated."""
    running_runs: tuple[UUID, ...]
    """Ours: the runs in progress, which ``running`` summarises."""


@frozen(kw_only=True)
class RepoConfigDocument:
    """``repo_configs``: one per (``repo_name``, ``repo_url``, ``branch``)."""

    repo_name: str
    repo_url: str
    branch: str
    pipelines: dict[str, PipelineEntry]


@frozen(kw_only=True)
class JobLog:
    """One job of a stage, keyed by its ``job_name``."""

    job_name: str
    job_status: str
    allows_failure: bool
    start_time: datetime
    completion_time: datetime | None
    job_logs: str
    """The tail of the job's output; ``log_truncated_chars`` says how much was cut."""
    attempt: int
    """Ours: 1 for the first try, 2 for the first retry, …"""
    log_chars: int
    """Ours: the length of the whole log, in characters."""
    log_truncated_chars: int
    """Ours: how many characters from the start of the log ``job_logs`` leaves out."""
    log_chunks: int
    """Ours: how many chunks the log arrived in."""


@frozen(kw_only=True)
class StageLog:
    """One stage of a run, keyed by its ``stage_name``; its jobs keyed by ``job_name``."""

    stage_name: str
    stage_status: str
    start_time: datetime
    completion_time: datetime | None
    jobs: dict[str, JobLog]


@frozen(kw_only=True)
class RunDocument:
    """``jobs_history``: one per pipeline run, keyed by ``run_id``."""

    run_id: UUID
    """Ours: chosen when the run starts; the document's key."""
    repo_name: str
    """Ours: a pipeline name alone is ambiguous across repositories."""
    repo_url: str
    """Ours."""
    branch: str
    """Ours."""
    pipeline_name: str
    run_number: int
    git_commit_hash: str
    pipeline_config_used: dict[str, Any]
    status: str
    """``running`` until the run ends, then ``success``, ``failed`` or ``canceled``."""
    start_time: datetime
    completion_time: datetime | None
    logs: dict[str, StageLog]
    trigger: str
    """Ours: what started the run."""
    actor: str
    """Ours: who started the run."""
    duration_ms: int | None
    """Ours: from start to completion, once the run has ended."""
    cancel_reason: str | None
    """Ours: why the run was canceled, if it was and a reason was given."""
