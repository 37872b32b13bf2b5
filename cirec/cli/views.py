"""The read models as tables for people: one function per document kind."""

from __future__ import annotations

from datetime import datetime

from cirec.cli.context import Context
from cirec.cli.tables import Column
from eventstore.codec import json_converter
from projections.documents import RepoConfigDocument, RunDocument, SessionDocument

FIELD_COLUMNS = (Column("field", 20), Column("value", 80))
SESSION_COLUMNS = (
    Column("user", 20),
    Column("repo", 20),
    Column("branch", 24),
    Column("commit", 8),
    Column("remote", 6),
    Column("last access", 19),
)
PIPELINE_COLUMNS = (
    Column("repo", 20),
    Column("branch", 24),
    Column("pipeline", 24),
    Column("file", 36),
    Column("active", 6),
    Column("running", 7),
    Column("runs", 5, numeric=True),
    Column("commit", 8),
)
RUN_COLUMNS = (
    Column("run", 5, numeric=True),
    Column("repo", 20),
    Column("pipeline", 24),
    Column("branch", 24),
    Column("status", 9),
    Column("commit", 8),
    Column("trigger", 10),
    Column("actor", 16),
    Column("started", 19),
    Column("duration", 9, numeric=True),
)
JOB_COLUMNS = (
    Column("stage", 16),
    Column("stage status", 12),
    Column("job", 24),
    Column("job status", 10),
    Column("allowed to fail", 15),
    Column("started", 19),
    Column("completed", 19),
    Column("log chars", 10, numeric=True),
)


def show_fields(context: Context, document: object) -> None:
    """Print every field of one document as a two-column table."""
    plain = json_converter.unstructure(document)
    context.print_table(FIELD_COLUMNS, [(name, str(value)) for name, value in plain.items()])


def show_sessions(context: Context, sessions: list[SessionDocument]) -> None:
    """Print sessions, one row each."""
    context.print_table(
        SESSION_COLUMNS,
        [
            (s.user_id, s.repo_name, s.branch, s.commit_hash, _yes(s.is_remote), _time(s.time))
            for s in sessions
        ],
    )


def show_repo_configs(context: Context, configs: list[RepoConfigDocument]) -> None:
    """Print the pipelines of repository branches, one row per pipeline."""
    context.print_table(
        PIPELINE_COLUMNS,
        [
            (
                config.repo_name,
                config.branch,
                entry.pipeline_name,
                entry.pipeline_file_name,
                _yes(entry.active),
                _yes(entry.running),
                str(len(entry.job_run_history)),
                entry.last_commit_hash,
            )
            for config in configs
            for entry in config.pipelines.values()
        ],
    )


def show_runs(context: Context, runs: list[RunDocument]) -> None:
    """Print runs, one row each."""
    context.print_table(
        RUN_COLUMNS,
        [
            (
                str(run.run_number),
                run.repo_name,
                run.pipeline_name,
                run.branch,
                run.status,
                run.git_commit_hash,
                run.trigger,
                run.actor,
                _time(run.start_time),
                _duration(run.duration_ms),
            )
            for run in runs
        ],
    )


def show_run(context: Context, run: RunDocument) -> None:
    """Print one run: a line about it, then its stages and jobs."""
    context.out(
        f"run #{run.run_number} of {run.repo_name} {run.pipeline_name} on {run.branch} "
        f"at {run.git_commit_hash}: {run.status}"
        + (f" ({run.cancel_reason})" if run.cancel_reason else "")
    )
    context.print_table(
        JOB_COLUMNS,
        [
            (
                stage.stage_name,
                stage.stage_status,
                job.job_name,
                job.job_status,
                _yes(job.allows_failure),
                _time(job.start_time),
                _time(job.completion_time),
                str(job.log_chars),
            )
            for stage in run.logs.values()
            for job in stage.jobs.values()
        ],
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _time(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _duration(milliseconds: int | None) -> str:
    if milliseconds is None:
        return ""
    minutes, seconds = divmod(round(milliseconds / 1000), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
