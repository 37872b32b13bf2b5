"""The read models as tables for people: one function per document kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from cirec.cli.context import Context
from cirec.cli.outcomes import WARNINGS, duration, run_outcome
from cirec.cli.tables import Column
from eventstore.clock import to_epoch_millis, utc_now
from eventstore.codec import json_converter
from projections.documents import RUNNING, RepoConfigDocument, RunDocument, SessionDocument

WARNING: Final = "warning"
"""How a run is shown that succeeded while a job allowed to fail failed (GitLab's "passed
with warnings"); its stored status stays ``success``."""
SHORT_COMMIT: Final = 8
"""How many characters of a commit hash a table shows (``--json`` gives all of it)."""

FIELD_COLUMNS = (Column("field", 20), Column("value", 80))
SESSION_COLUMNS = (
    Column("user", 20),
    Column("repo", 20),
    Column("branch", 24),
    Column("commit", SHORT_COMMIT),
    Column("remote", 6),
    Column("last access", 23, fixed=True),
)
PIPELINE_COLUMNS = (
    Column("repo", 20),
    Column("branch", 24),
    Column("pipeline", 24),
    Column("file", 36),
    Column("active", 6),
    Column("running", 7),
    Column("runs", 5, numeric=True),
    Column("commit", SHORT_COMMIT),
)
FOUND_RUN_COLUMNS = (
    Column("run", 6, numeric=True),
    Column("repo", 20),
    Column("pipeline", 24),
    Column("branch", 24),
    Column("status", 9, status=True),
    Column("commit", SHORT_COMMIT),
    Column("trigger", 12),
    Column("actor", 16),
    Column("started", 14, fixed=True),
    Column("started at", 20, fixed=True),
    Column("duration", 16, numeric=True),
)
URL_COLUMN = Column("url", 48)
JOB_COLUMNS = (
    Column("stage", 16),
    Column("stage status", 12, status=True),
    Column("job", 24),
    Column("job status", 10, status=True),
    Column("allowed to fail", 15),
    Column("started", 23, fixed=True),
    Column("completed", 23, fixed=True),
    Column("log chars", 10, numeric=True),
)


def show_fields(context: Context, document: object) -> None:
    """Print every field of one document as a two-column table."""
    plain = json_converter.unstructure(document)
    context.print_table(FIELD_COLUMNS, [(name, _cell(value)) for name, value in plain.items()])


def show_sessions(context: Context, sessions: list[SessionDocument]) -> None:
    """Print sessions, one row each."""
    context.print_table(
        SESSION_COLUMNS,
        [
            (
                s.user_id,
                s.repo_name,
                s.branch,
                s.commit_hash[:SHORT_COMMIT],
                _yes(s.is_remote),
                _time(s.time),
            )
            for s in sessions
        ],
    )


def show_repo_configs(context: Context, configs: list[RepoConfigDocument]) -> None:
    """Print the pipelines of repository branches, one row per pipeline.

    A ``url`` column follows ``repo`` when two repositories of one name are listed.
    """
    with_url = names_collide((config.repo_name, config.repo_url) for config in configs)
    columns = list(PIPELINE_COLUMNS)
    if with_url:
        columns.insert(1, URL_COLUMN)
    rows = []
    for config in configs:
        for entry in config.pipelines.values():
            row = [
                config.repo_name,
                config.branch,
                entry.pipeline_name,
                entry.pipeline_file_name,
                _yes(entry.active),
                _yes(entry.running),
                str(len(entry.job_run_history)),
                entry.last_commit_hash[:SHORT_COMMIT],
            ]
            if with_url:
                row.insert(1, config.repo_url)
            rows.append(row)
    context.print_table(columns, rows)


def names_collide(repositories: Iterable[tuple[str, str]]) -> bool:
    """Tell whether two of the (name, URL) pairs share a name and differ in URL."""
    urls: dict[str, set[str]] = {}
    for name, url in repositories:
        urls.setdefault(name, set()).add(url)
    return any(len(found) > 1 for found in urls.values())


def show_runs(context: Context, runs: Sequence[RunDocument]) -> None:
    """Print runs, one row each, with times relative to now (see :func:`show_found_runs`)."""
    show_found_runs(context, runs, utc_now())


def show_found_runs(context: Context, runs: Sequence[RunDocument], now: datetime) -> None:
    """Print the runs a search found, one row each, with times relative to ``now``.

    A ``url`` column follows ``repo`` when two of the runs have one repository name and
    different URLs, so the rows tell the repositories apart.
    """
    with_url = names_collide((run.repo_name, run.repo_url) for run in runs)
    columns = list(FOUND_RUN_COLUMNS)
    if with_url:
        columns.insert(2, URL_COLUMN)
    rows = []
    for run in runs:
        row = [
            str(run.run_number),
            run.repo_name,
            run.pipeline_name,
            run.branch,
            shown_status(run),
            run.git_commit_hash[:SHORT_COMMIT],
            run.trigger,
            run.actor,
            relative_time(run.start_time, now),
            absolute_time(run.start_time),
            run_duration(run, now),
        ]
        if with_url:
            row.insert(2, run.repo_url)
        rows.append(row)
    context.print_table(columns, rows)


def shown_status(run: RunDocument) -> str:
    """Return the status to show: :data:`WARNING` for a success with an allowed failure."""
    return WARNING if run_outcome(run) == WARNINGS else run.status


def relative_time(moment: datetime, now: datetime) -> str:
    """Return how long before ``now`` ``moment`` was, for people: ``5 min ago``, ``2 days ago``.

    Under a minute is ``just now``; a moment after ``now`` (another machine's clock) is
    ``in 5 min``. Units: seconds under a minute are not shown, then minutes, hours under
    two days, days; each count is rounded down.
    """
    seconds = int((now - moment).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    minutes = abs(seconds) // 60
    if minutes < 60:
        span = f"{minutes} min"
    elif minutes < 48 * 60:
        span = f"{minutes // 60} h"
    else:
        span = f"{minutes // (24 * 60)} days"
    return f"{span} ago" if seconds > 0 else f"in {span}"


def absolute_time(moment: datetime) -> str:
    """Return ``moment`` in UTC to the minute, its zone named: ``2026-12-03 12:04 UTC``."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def run_duration(run: RunDocument, now: datetime) -> str:
    """Return how long the run took, or for a run still running how long so far.

    A running run's span ends in `` so far`` (measured to ``now``, at least 0s); an
    ended run without a recorded duration shows nothing.
    """
    if run.status == RUNNING and run.completion_time is None:
        elapsed = max(now - run.start_time, timedelta(0))
        return f"{duration(elapsed // timedelta(milliseconds=1))} so far"
    if run.duration_ms is not None:
        return duration(run.duration_ms)
    if run.completion_time is not None:
        return duration(to_epoch_millis(run.completion_time) - to_epoch_millis(run.start_time))
    return ""


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


def _cell(value: object) -> str:
    """Return a field's value as every table shows it (a flag as yes or no)."""
    return _yes(value) if isinstance(value, bool) else str(value)


def _time(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
