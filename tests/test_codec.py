"""The codec: JSON form round trips, upcasting of older schema versions, strictness."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given

from eventstore.catalog import EVENT_TYPES, DomainEvent, JobStarted
from eventstore.clock import from_epoch_millis, to_epoch_millis, to_millis
from eventstore.codec import Codec, json_converter
from eventstore.errors import InvalidEventError
from eventstore.records import Metadata, NewEvent
from eventstore.streams import parse_stream_id, stream_id
from tests.strategies import domain_events, names, utc_times


@given(event=domain_events, occurred_at=utc_times)
def test_every_event_survives_its_json_form(event: DomainEvent, occurred_at: datetime) -> None:
    codec = Codec()
    record = codec.to_new_event(
        event, event_id=uuid.uuid4(), occurred_at=occurred_at, metadata=Metadata(actor="ci")
    )
    parsed, decoded = codec.parse_new_event(json_converter.unstructure(record))
    assert parsed == record
    assert decoded == event
    assert type(decoded).__name__ == record.type


def job_started_v1(data: dict[str, Any]) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="JobStarted",
        schema_version=1,
        occurred_at=to_millis(datetime.now(UTC)),
        data=data,
    )


def test_an_older_schema_version_is_upcast_on_the_way_in() -> None:
    # Pretend JobStarted is at version 2 now, and version 1 spelled the flag differently.
    class JobStartedV2(JobStarted):
        SCHEMA_VERSION = 2

    def rename_flag(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["allows_failure"] = data.pop("may_fail")
        return data

    codec = Codec({**EVENT_TYPES, "JobStarted": JobStartedV2}, {("JobStarted", 1): rename_flag})
    run_id = uuid.uuid4()
    old = {"run_id": str(run_id), "stage_name": "t", "job_name": "u", "may_fail": True}
    decoded = codec.decode(job_started_v1(old))
    assert decoded == JobStartedV2(run_id=run_id, stage_name="t", job_name="u", allows_failure=True)


def test_a_missing_upcaster_or_a_newer_version_is_refused() -> None:
    class JobStartedV2(JobStarted):
        SCHEMA_VERSION = 2

    codec = Codec({**EVENT_TYPES, "JobStarted": JobStartedV2}, {})
    with pytest.raises(InvalidEventError, match="no upcaster") as caught:
        codec.decode(job_started_v1({}))
    assert caught.value.field == "schema_version"
    with pytest.raises(InvalidEventError, match="newer"):
        Codec().decode(attrs.evolve(job_started_v1({}), schema_version=5))


def test_times_are_written_as_utc_milliseconds_with_a_z() -> None:
    moment = datetime(2026, 1, 15, 9, 30, 0, 120000, tzinfo=UTC)
    record = attrs.evolve(job_started_v1({}), occurred_at=moment)
    assert json_converter.unstructure(record)["occurred_at"] == "2026-01-15T09:30:00.120Z"
    paris = datetime(2026, 1, 15, 10, 30, 0, 120999, tzinfo=timezone(timedelta(hours=1)))
    assert to_millis(paris) == moment


@given(utc_times)
def test_epoch_millis_round_trip(moment: datetime) -> None:
    assert from_epoch_millis(to_epoch_millis(moment)) == moment


@given(kind=names, parts=names.map(lambda n: (n, n + "x")))
def test_stream_ids_are_reversible(kind: str, parts: tuple[str, str]) -> None:
    kind = kind.replace(":", "") or "k"
    assert parse_stream_id(stream_id(kind, *parts)) == (kind, parts)
