"""The one status rule: how a stage's and a run's status follow from their parts.

As GitLab derives a pipeline's status: failed beats canceled beats success. A job's part
in its stage is its latest attempt's status, except that a failure the job allows
counts as a success (with a warning). A stage's status is the composite of its jobs'
parts, a run's the composite of its stages'. The write side refuses an engine's status
that contradicts this rule (:mod:`eventstore.lifecycle`); the ``jobs_history`` fold
derives the stored statuses with the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from eventstore.catalog import Status

RUNNING: Final = "running"
"""The status of a run, stage or job that has started and not ended (a read-model value)."""


def job_part(status: str, allows_failure: bool) -> str:
    """Return what a job whose latest attempt has ``status`` gives its stage's composite."""
    if status == Status.FAILED.value and allows_failure:
        return Status.SUCCESS.value
    return status


def composite(parts: Iterable[str]) -> str:
    """Return the status a set of parts gives: failed, else canceled, else success.

    A part that is neither ``success`` nor ``failed`` (``canceled``, or still ``running``)
    makes the composite ``canceled``; no part at all gives ``success``.
    """
    seen = set(parts)
    if Status.FAILED.value in seen:
        return Status.FAILED.value
    if seen - {Status.SUCCESS.value}:
        return Status.CANCELED.value
    return Status.SUCCESS.value


def canceled_status(parts: Iterable[str]) -> str:
    """Return the status of a stage or run canceled before its end: failed, else canceled.

    A failure among its parts stays its status; otherwise it is ``canceled``, even when
    every part so far succeeded, since it did not run to its end.
    """
    return Status.FAILED.value if Status.FAILED.value in set(parts) else Status.CANCELED.value
