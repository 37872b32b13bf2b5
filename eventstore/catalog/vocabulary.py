"""The closed vocabularies of the catalog: outcomes and triggers."""

from __future__ import annotations

import enum


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
