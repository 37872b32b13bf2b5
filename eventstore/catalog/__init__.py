"""The event catalog: every event of the CI lifecycle, as frozen attrs classes.

Each class is named in the past tense, validates itself at construction, knows its stream
(``stream_id``) and its current ``SCHEMA_VERSION``. ``EVENT_TYPES`` maps the stored ``type``
name to its class; it is the closed set the codec accepts.
"""

from __future__ import annotations

from typing import TypeAlias

from eventstore.catalog.pipelines import (
    PipelineActivated,
    PipelineDeactivated,
    PipelineValidated,
    PipelineValidationFailed,
)
from eventstore.catalog.runs import (
    JobFinished,
    JobLogChunkAppended,
    JobStarted,
    RunCanceled,
    RunFinished,
    RunStarted,
    StageFinished,
    StageStarted,
)
from eventstore.catalog.sessions import SessionAccessed, SessionOpened
from eventstore.catalog.vocabulary import Status, StatusValue, Trigger, TriggerValue

DomainEvent: TypeAlias = (
    SessionOpened
    | SessionAccessed
    | PipelineValidated
    | PipelineValidationFailed
    | PipelineActivated
    | PipelineDeactivated
    | RunStarted
    | StageStarted
    | StageFinished
    | JobStarted
    | JobLogChunkAppended
    | JobFinished
    | RunFinished
    | RunCanceled
)
"""Any event of the catalog."""

EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.__name__: cls
    for cls in (
        SessionOpened,
        SessionAccessed,
        PipelineValidated,
        PipelineValidationFailed,
        PipelineActivated,
        PipelineDeactivated,
        RunStarted,
        StageStarted,
        StageFinished,
        JobStarted,
        JobLogChunkAppended,
        JobFinished,
        RunFinished,
        RunCanceled,
    )
}
"""The stored ``type`` name of every event, in lifecycle order."""

__all__ = [
    "EVENT_TYPES",
    "DomainEvent",
    "JobFinished",
    "JobLogChunkAppended",
    "JobStarted",
    "PipelineActivated",
    "PipelineDeactivated",
    "PipelineValidated",
    "PipelineValidationFailed",
    "RunCanceled",
    "RunFinished",
    "RunStarted",
    "SessionAccessed",
    "SessionOpened",
    "StageFinished",
    "StageStarted",
    "Status",
    "StatusValue",
    "Trigger",
    "TriggerValue",
]
