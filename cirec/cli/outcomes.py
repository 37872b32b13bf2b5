"""How a run, stage or job reads at a glance: its outcome, icon and colour, and its time.

Pure functions of a document and "now", shared by every view. A run that succeeded
although a job allowed to fail failed reads ``success with warnings``: the run's
status stays ``success`` in the document, as the schema says, and the view adds what
a person needs to know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from attrs import frozen

from projections.documents import RUNNING, JobLog, RunDocument

WARNINGS: Final = "success with warnings"
"""The outcome of a successful run in which an allowed failure failed."""


@frozen
class Look:
    """How an outcome is shown: an icon and a colour name (a ``rich`` style)."""

    icon: str
    style: str


LOOKS: Final = {
    RUNNING: Look("●", "cyan"),
    "success": Look("✓", "green"),
    WARNINGS: Look("!", "yellow"),
    "warning": Look("!", "yellow"),  # the short form a table of runs shows
    "failed": Look("✗", "red"),
    "canceled": Look("⊘", "magenta"),
}
UNKNOWN: Final = Look("?", "default")


def look(outcome: str) -> Look:
    """Return how ``outcome`` is shown (a neutral look for a status this view does not know)."""
    return LOOKS.get(outcome, UNKNOWN)


def run_outcome(run: RunDocument) -> str:
    """Return the run's status, or :data:`WARNINGS` for a success with a tolerated failure."""
    if run.status == "success" and any(
        job.allows_failure and job.job_status == "failed"
        for stage in run.logs.values()
        for job in stage.jobs.values()
    ):
        return WARNINGS
    return run.status


def is_over(run: RunDocument) -> bool:
    """Tell whether the run has ended (it has a final status)."""
    return run.status != RUNNING


def run_elapsed_ms(run: RunDocument, now: datetime) -> int:
    """Return how long the run took, or has taken so far if it still runs."""
    return _elapsed_ms(run.start_time, run.completion_time, now)


def job_elapsed_ms(job: JobLog, now: datetime) -> int:
    """Return how long the job took, or has taken so far if it still runs."""
    return _elapsed_ms(job.start_time, job.completion_time, now)


def _elapsed_ms(start: datetime, end: datetime | None, now: datetime) -> int:
    return max(0, round(((end or now) - start).total_seconds() * 1000))


def duration(milliseconds: int | None) -> str:
    """Return a duration for people: ``45s``, ``2m05s``, ``1h02m``, ``3d04h`` ("" if unknown)."""
    if milliseconds is None:
        return ""
    seconds = round(milliseconds / 1000)
    days, seconds = divmod(seconds, 86400)
    if days:
        return f"{days}d{seconds // 3600:02d}h"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
