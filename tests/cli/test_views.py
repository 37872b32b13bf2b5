"""The pure formatting of runs for people, and ``--since``, with a fixed "now"."""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from cirec.cli import views
from cirec.cli.outcomes import duration
from cirec.cli.runs import Since, since
from projections.documents import JobLog, RunDocument, StageLog

NOW = datetime(2026, 12, 3, 12, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "shown"),
    [
        (timedelta(seconds=0), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=5, seconds=59), "5 min ago"),
        (timedelta(minutes=59), "59 min ago"),
        (timedelta(hours=1), "1 h ago"),
        (timedelta(hours=47, minutes=59), "47 h ago"),
        (timedelta(days=2), "2 days ago"),
        (timedelta(days=400), "400 days ago"),
        (-timedelta(minutes=5), "in 5 min"),
    ],
)
def test_a_relative_time_counts_back_from_now(before: timedelta, shown: str) -> None:
    assert views.relative_time(NOW - before, NOW) == shown


def test_an_absolute_time_is_in_utc_and_names_its_zone() -> None:
    assert views.absolute_time(NOW) == "2026-12-03 12:04 UTC"
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert views.absolute_time(paris) == "2026-12-03 12:04 UTC"


@pytest.mark.parametrize(
    ("milliseconds", "shown"),
    [
        (0, "0s"),
        (45_400, "45s"),
        (185_000, "3m05s"),
        (7_620_000, "2h07m"),
        (27_820_000_000, "321d23h"),
        (None, ""),
    ],
)
def test_a_duration_is_short(milliseconds: int | None, shown: str) -> None:
    assert duration(milliseconds) == shown


def run(**changes: Any) -> RunDocument:
    base = RunDocument(
        run_id=uuid.uuid4(),
        repo_name="api",
        repo_url="u",
        branch="main",
        pipeline_name="build",
        run_number=1,
        git_commit_hash="a" * 40,
        pipeline_config_used={},
        status="success",
        start_time=NOW - timedelta(minutes=3, seconds=5),
        completion_time=NOW,
        logs={},
        trigger="push",
        actor="ada",
        duration_ms=185_000,
        cancel_reason=None,
    )
    return attrs.evolve(base, **changes)


def with_job(status: str, allows_failure: bool, run_status: str = "success") -> RunDocument:
    job = JobLog(
        job_name="lint",
        job_status=status,
        allows_failure=allows_failure,
        start_time=NOW,
        completion_time=NOW,
        job_logs="",
        attempt=1,
        log_chars=0,
        log_truncated_chars=0,
        log_chunks=0,
    )
    stage = StageLog(
        stage_name="test",
        stage_status="success",
        start_time=NOW,
        completion_time=NOW,
        jobs={"lint": job},
    )
    return run(status=run_status, logs={"test": stage})


def test_a_running_run_shows_its_time_so_far_and_an_ended_one_its_duration() -> None:
    running = run(status="running", completion_time=None, duration_ms=None)
    assert views.run_duration(running, NOW) == "3m05s so far"
    assert views.run_duration(running, NOW - timedelta(hours=1)) == "0s so far"  # clock skew
    assert views.run_duration(run(), NOW) == "3m05s"
    assert views.run_duration(run(duration_ms=None), NOW) == "3m05s"


def test_a_success_with_an_allowed_failure_is_shown_as_a_warning() -> None:
    assert views.shown_status(with_job("failed", allows_failure=True)) == "warning"
    assert views.shown_status(with_job("failed", allows_failure=False)) == "success"
    assert views.shown_status(with_job("success", allows_failure=True)) == "success"
    failed = with_job("failed", allows_failure=True, run_status="failed")
    assert views.shown_status(failed) == "failed"


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("3d", NOW - timedelta(days=3)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-12-01T08:00Z", datetime(2026, 12, 1, 8, tzinfo=UTC)),
        ("2026-12-01T09:00+01:00", datetime(2026, 12, 1, 8, tzinfo=UTC)),
        ("2026-12-01 08:00", datetime(2026, 12, 1, 8, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_since_is_an_age_back_from_now_or_an_iso_time(text: str, moment: datetime) -> None:
    assert since(text).moment(NOW) == moment


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-3d", "3y", ""])
def test_since_refuses_anything_else_showing_both_forms(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="30m, 2h, 3d, 1w"):
        since(text)


def test_an_empty_since_names_the_moment_itself() -> None:
    assert Since().moment(NOW) == NOW
