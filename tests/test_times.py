"""Times are normalised one way on every input path (UTC, milliseconds), or refused one way.

The recorder's clock, the JSON form (``Recorder.emit``, ``cirec emit``) and a ``NewEvent``
built by hand all go through ``eventstore.clock.normalise_time``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.catalog import SessionOpened
from eventstore.clock import NAIVE_TIME, normalise_time
from eventstore.codec import Codec, json_converter, recorded_to_json
from eventstore.errors import InvalidEventError
from eventstore.recorder import Recorder
from eventstore.records import ANY, Metadata, NewEvent
from eventstore.store import EventStore

IST = timezone(timedelta(hours=5, minutes=30))
# 09:30:00.123456 UTC, as a clock in India would give it.
LOCAL = datetime(2026, 1, 15, 15, 0, 0, 123456, tzinfo=IST)
STORED = datetime(2026, 1, 15, 9, 30, 0, 123000, tzinfo=UTC)
SESSION = SessionOpened(
    user_id="dev-42",
    repo_name="api",
    repo_url="https://git.example.com/api.git",
    branch="main",
    commit_hash="9f2c1e7",
    is_remote=False,
)


def json_form(occurred_at: object) -> dict[str, Any]:
    """The JSON form of ``SESSION`` with a fresh id, its ``occurred_at`` as given."""
    record = Codec().to_new_event(
        SESSION, event_id=uuid.uuid4(), occurred_at=STORED, metadata=Metadata(actor="ci")
    )
    raw: dict[str, Any] = json_converter.unstructure(record)
    raw["occurred_at"] = occurred_at
    return raw


def by_hand(occurred_at: datetime) -> NewEvent:
    """``SESSION`` as a ``NewEvent`` built without the codec, at ``occurred_at``."""
    return NewEvent(
        event_id=uuid.uuid4(),
        type="SessionOpened",
        schema_version=1,
        occurred_at=occurred_at,
        data=json_converter.unstructure(SESSION),
    )


def test_a_clock_at_an_offset_and_emit_of_the_same_instant_store_one_value(
    store: EventStore,
) -> None:
    Recorder(store, actor="ci", clock=lambda: LOCAL).record(SESSION)
    Recorder(store, actor="ci").emit(json_form(LOCAL.isoformat()))
    Recorder(store, actor="ci").emit(json_form("2026-01-15T09:30:00.123999Z"))
    store.append(SESSION.stream_id, [by_hand(LOCAL)], ANY)

    stored = list(store.read_all())
    assert [event.occurred_at for event in stored] == [STORED] * 4
    assert all(event.occurred_at.tzinfo is UTC for event in stored)
    assert {recorded_to_json(event)["occurred_at"] for event in stored} == {
        "2026-01-15T09:30:00.123Z"
    }


def refusal(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(InvalidEventError) as caught:
        call()
    return caught.value.field, caught.value.reason


def test_a_naive_time_is_refused_the_same_way_on_every_path(store: EventStore) -> None:
    naive = LOCAL.replace(tzinfo=None)
    recorder = Recorder(store, actor="ci", clock=lambda: naive)
    refusals = {
        refusal(lambda: recorder.record(SESSION)),
        refusal(lambda: recorder.open_session(**json_converter.unstructure(SESSION))),
        refusal(lambda: recorder.emit(json_form(naive.isoformat()))),
        refusal(lambda: Codec().parse_new_event(json_form(naive.isoformat()))),
        refusal(lambda: by_hand(naive)),
    }
    assert refusals == {("occurred_at", NAIVE_TIME)}
    assert store.head() == 0


@pytest.mark.parametrize(
    ("clock_value", "reason"),
    [
        ("2026-01-15T09:30:00Z", "expected a datetime, got str"),
        (None, "expected a datetime, got NoneType"),
        (
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
            "falls outside the years 1 to 9999 in UTC",
        ),
    ],
)
def test_a_clock_giving_no_usable_time_is_refused_naming_the_field(
    store: EventStore, clock_value: Any, reason: str
) -> None:
    recorder = Recorder(store, actor="ci", clock=lambda: clock_value)
    assert refusal(lambda: recorder.record(SESSION)) == ("occurred_at", reason)
    assert store.head() == 0


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (5, "expected an ISO 8601 time string, got int"),
        ("yesterday", "not an ISO 8601 time (e.g. 2026-01-15T09:30:00.000Z)"),
        ("0001-01-01T00:00:00+01:00", "falls outside the years 1 to 9999 in UTC"),
    ],
)
def test_a_json_time_that_is_no_time_is_refused_naming_the_field(
    written: object, reason: str
) -> None:
    assert refusal(lambda: Codec().parse_new_event(json_form(written))) == ("occurred_at", reason)


offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(instant=instants, offset=offsets)
def test_any_offset_and_any_microseconds_give_the_instant_cut_to_milliseconds(
    instant: datetime, offset: timezone
) -> None:
    local = instant.astimezone(offset)
    kept = normalise_time(local)
    assert kept.tzinfo is UTC
    assert kept.microsecond % 1000 == 0
    assert timedelta(0) <= instant - kept < timedelta(milliseconds=1)
    assert normalise_time(kept) == kept
    parsed, _ = Codec().parse_new_event(json_form(local.isoformat()))
    assert parsed.occurred_at == kept == by_hand(local).occurred_at


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instant=instants, offset=offsets)
def test_the_recorder_and_emit_store_one_value_for_one_instant_on_every_store(
    store_per_example: Callable[[], AbstractContextManager[EventStore]],
    instant: datetime,
    offset: timezone,
) -> None:
    local = instant.astimezone(offset)
    with store_per_example() as store:
        Recorder(store, actor="ci", clock=lambda: local).record(SESSION)
        Recorder(store, actor="ci").emit(json_form(local.isoformat()))
        first, second = store.read_all()
    assert first.occurred_at == second.occurred_at == normalise_time(instant)
