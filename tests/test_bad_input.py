"""Invalid events are refused with an error naming the field, and the log is unchanged."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.catalog import (
    EVENT_TYPES,
    JobLogChunkAppended,
    JobStarted,
    RunFinished,
    SessionOpened,
    Status,
    Trigger,
)
from eventstore.codec import Codec, json_converter
from eventstore.errors import InvalidEventError
from eventstore.recorder import Recorder
from eventstore.records import Metadata
from eventstore.store import EventStore
from tests.strategies import domain_events, utc_times

# A value of the wrong kind for each field type in the catalog.
WRONG_VALUE: list[tuple[object, object]] = [
    (str, 12345),
    (str | None, 12345),
    (int, "7"),
    (bool, "true"),
    (UUID, "not-a-uuid"),
    (Status, "succeeded"),
    (Trigger, "cron"),
    (dict[str, Any], ["not", "an", "object"]),
    (tuple[str, ...], "not a list"),
]


def wrong_value(field_type: object) -> object:
    return next(value for kind, value in WRONG_VALUE if kind == field_type)


@st.composite
def valid_json_events(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(domain_events)
    record = Codec().to_new_event(
        event,
        event_id=uuid.uuid4(),
        occurred_at=draw(utc_times),
        metadata=Metadata(actor="ci"),
    )
    raw: dict[str, Any] = json_converter.unstructure(record)
    return raw


@st.composite
def invalid_json_events(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid event's JSON form with one fault, and the field the error must name."""
    raw = copy.deepcopy(draw(valid_json_events()))
    fields = attrs.fields(attrs.resolve_types(EVENT_TYPES[raw["type"]]))
    fault = draw(
        st.sampled_from(
            ["wrong_type", "missing", "unknown_field", "unknown_type", "naive_time", "envelope"]
        )
    )
    if fault == "wrong_type":
        field = draw(st.sampled_from(fields))
        raw["data"][field.name] = wrong_value(field.type)
        return raw, f"data.{field.name}"
    if fault == "missing":
        field = draw(st.sampled_from([f for f in fields if f.default is attrs.NOTHING]))
        del raw["data"][field.name]
        return raw, f"data.{field.name}"
    if fault == "unknown_field":
        raw["data"]["colour"] = "blue"
        return raw, "data.colour"
    if fault == "unknown_type":
        raw["type"] = draw(st.text(max_size=20).filter(lambda t: t not in EVENT_TYPES))
        return raw, "type"
    if fault == "naive_time":
        raw["occurred_at"] = raw["occurred_at"].removesuffix("Z")
        return raw, "occurred_at"
    name = draw(st.sampled_from(["event_id", "schema_version", "occurred_at", "data", "metadata"]))
    if name != "metadata" and draw(st.booleans()):  # metadata may be left out: it has a default
        del raw[name]
    else:
        raw[name] = {
            "event_id": 7,
            "schema_version": "1",
            "occurred_at": 5,
            "data": [],
            "metadata": "x",
        }[name]
    return raw, name


def test_the_valid_forms_these_faults_start_from_are_accepted() -> None:
    @given(valid_json_events())
    def accepted(raw: dict[str, Any]) -> None:
        Codec().parse_new_event(raw)

    accepted()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=invalid_json_events())
def test_an_invalid_event_names_its_field_and_stores_nothing(
    store: EventStore, case: tuple[dict[str, Any], str]
) -> None:
    raw, field = case
    head = store.head()
    with pytest.raises(InvalidEventError) as caught:
        Recorder(store, actor="ci").emit(raw)
    assert caught.value.field == field, caught.value
    assert field.split(".")[-1] in str(caught.value)
    assert store.head() == head


def untyped(value: object) -> Any:
    """Let a wrongly typed value through the type checker: the event must refuse it."""
    return value


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (
            lambda: JobStarted(
                run_id=uuid.uuid4(), stage_name="s", job_name="j", allows_failure=untyped("yes")
            ),
            "allows_failure",
        ),
        (
            lambda: RunFinished(
                run_id=uuid.uuid4(),
                repo_name="r",
                repo_url="u",
                branch="b",
                pipeline_name="p",
                status=untyped("done"),
            ),
            "status",
        ),
        (
            lambda: SessionOpened(
                user_id="", repo_name="r", repo_url="u", branch="b", commit_hash="c", is_remote=True
            ),
            "user_id",
        ),
        (
            lambda: JobLogChunkAppended(
                run_id=uuid.uuid4(), stage_name="s", job_name="j", chunk_index=-1, content="x"
            ),
            "chunk_index",
        ),
        (
            lambda: SessionOpened(
                user_id="u",
                repo_name="r",
                repo_url="u",
                branch="b",
                commit_hash="c",
                is_remote=untyped(1),
            ),
            "is_remote",
        ),
    ],
)
def test_domain_events_refuse_bad_values_at_construction(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        build()
    assert caught.value.field == field
