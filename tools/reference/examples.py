"""The example values of the page, and the example events, records and stored records.

The examples are deterministic (fixed ids, times and values), so the page changes only when
the code does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from eventstore import streams
from eventstore.catalog import DomainEvent, Status, Trigger
from eventstore.codec import Codec
from eventstore.records import Metadata, NewEvent, RecordedEvent

EXAMPLE_EVENT_ID = UUID("00000000-0000-4000-8000-000000000001")
EXAMPLE_RUN_ID = UUID("00000000-0000-4000-8000-000000000002")
EXAMPLE_CAUSATION_ID = UUID("00000000-0000-4000-8000-000000000003")
EXAMPLE_TIME = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
EXAMPLE_ACTOR = "ci-engine"
EXAMPLE_STORE_DELAY = timedelta(milliseconds=42)
"""How long after ``occurred_at`` the example is stored (its ``recorded_at``)."""

EXAMPLE_VALUES: Mapping[str, object] = {
    "user_id": "dev-42",
    "repo_name": "acme-api",
    "repo_url": "https://git.example.com/acme/api.git",
    "branch": "main",
    "commit_hash": "9f2c1e7",
    "is_remote": True,
    "pipeline_name": "build-and-test",
    "pipeline_file_name": ".cicd/build-and-test.yaml",
    "pipeline_config": {
        "stages": [
            {"name": "build", "jobs": [{"name": "compile", "script": ["make build"]}]},
            {
                "name": "test",
                "jobs": [
                    {"name": "unit", "script": ["make test"]},
                    {"name": "lint", "script": ["make lint"], "allow_failure": True},
                ],
            },
        ]
    },
    "errors": ("stages[1].jobs[0]: 'script' is required",),
    "run_id": EXAMPLE_RUN_ID,
    "run_number": 7,
    "trigger": Trigger.PUSH,
    "actor": "dev-42",
    "stage_name": "test",
    "job_name": "unit",
    "allows_failure": False,
    "attempt": 1,
    "chunk_index": 0,
    "content": "$ make test\ncollected 128 items\n128 passed in 4.21s\n",
    "status": Status.SUCCESS,
    "reason": "superseded by a newer push to main",
}
"""The value every catalog field takes in the page's examples, by field name."""


def example_event(cls: type[DomainEvent]) -> DomainEvent:
    """Return the event of type ``cls`` whose fields take their :data:`EXAMPLE_VALUES`.

    Raises ``LookupError`` for a field that has no example value.
    """
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name not in EXAMPLE_VALUES:
            raise LookupError(
                f"{cls.__name__}.{field.name} has no example value: add one to "
                "EXAMPLE_VALUES in tools/reference/examples.py"
            )
        values[field.alias or field.name] = copy.deepcopy(EXAMPLE_VALUES[field.name])
    return cls(**values)


def example_record(event: DomainEvent) -> NewEvent:
    """Return ``event`` as the codec records it, with the metadata the recorder would set.

    The record is correlated to the event's ``run_id`` (if it has one) and, in a run's
    stream, caused by an earlier event.
    """
    in_run_stream = streams.parse_stream_id(event.stream_id)[0] == streams.RUN
    metadata = Metadata(
        correlation_id=getattr(event, "run_id", None),
        causation_id=EXAMPLE_CAUSATION_ID if in_run_stream else None,
        actor=EXAMPLE_ACTOR,
    )
    return Codec().to_new_event(
        event, event_id=EXAMPLE_EVENT_ID, occurred_at=EXAMPLE_TIME, metadata=metadata
    )


def example_stored(event: DomainEvent) -> RecordedEvent:
    """Return the record of ``event`` as the store gives it back: first in its stream and log."""
    record = example_record(event)
    return RecordedEvent(
        **attrs.asdict(record, recurse=False),
        stream_id=event.stream_id,
        stream_version=1,
        position=1,
        recorded_at=record.occurred_at + EXAMPLE_STORE_DELAY,
    )
