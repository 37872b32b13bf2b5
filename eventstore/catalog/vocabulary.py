"""The closed vocabularies of the catalog: outcomes and triggers."""

from __future__ import annotations

import enum
from typing import TypeAlias, cast

from eventstore import validation as v


class Status(enum.StrEnum):
    """How a run, stage or job ended (the seed's ``success`` / ``failed`` / ``canceled``)."""

    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"


class Trigger(enum.StrEnum):
    """What started a run."""

    PUSH = "push"
    PULL_REQUEST = "pull_request"
    MANUAL = "manual"
    SCHEDULE = "schedule"
    API = "api"
    RETRY = "retry"


StatusValue: TypeAlias = Status | str
"""A :class:`Status`, or its value (``"failed"``): what the recorder's methods accept."""

TriggerValue: TypeAlias = Trigger | str
"""A :class:`Trigger`, or its value (``"push"``): what ``start_run`` accepts."""


def as_status(value: StatusValue) -> Status:
    """Convert a status field's value to its :class:`Status` (a field's attrs converter).

    A value that names no status is passed through for the field's validator to refuse,
    naming the field and listing the statuses.
    """
    return cast(Status, v.to_member(Status, value))


def as_trigger(value: TriggerValue) -> Trigger:
    """Convert a trigger field's value to its :class:`Trigger`, as :func:`as_status` does."""
    return cast(Trigger, v.to_member(Trigger, value))
