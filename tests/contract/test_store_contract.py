"""The store contract, run against every backend (``backend`` fixture: sqlite, mongodb).

Each test states one promise of :class:`eventstore.store.EventStore`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cirec.config import open_store
from eventstore.catalog import DomainEvent
from eventstore.clock import utc_now
from eventstore.codec import Codec
from eventstore.errors import (
    AppendTooLargeError,
    CirecError,
    DuplicateEventError,
    InvalidArgumentError,
    InvalidEventError,
    WrongExpectedVersionError,
)
from eventstore.records import ANY, NO_STREAM, ExpectedVersion, Metadata, NewEvent, RecordedEvent
from eventstore.store import EventStore
from tests.strategies import domain_events, metadata, new_events, utc_times

CLOCK_SLACK = timedelta(milliseconds=5)
fixture_per_test = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def event(**data: object) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="StageStarted",
        schema_version=1,
        occurred_at=utc_now(),
        data=dict(data),
    )


def stream() -> str:
    return f"test:{uuid.uuid4()}"


def as_new(recorded: RecordedEvent) -> NewEvent:
    return NewEvent(
        event_id=recorded.event_id,
        type=recorded.type,
        schema_version=recorded.schema_version,
        occurred_at=recorded.occurred_at,
        data=recorded.data,
        metadata=recorded.metadata,
    )


def wrong(value: object) -> Any:
    """Pass ``value`` where the signature wants another type, as an untyped caller might."""
    return value


def test_an_empty_store_has_nothing(store: EventStore) -> None:
    assert store.head() == 0
    assert list(store.read_all()) == []
    assert store.stream_version("nothing") == 0
    assert list(store.read_stream("nothing")) == []


def test_positions_and_versions_count_from_one_without_gaps(store: EventStore) -> None:
    first = store.append("a", [event(i=1), event(i=2)], NO_STREAM)
    second = store.append("b", [event(i=3)], NO_STREAM)
    third = store.append("a", [event(i=4)], 2)
    assert (first.positions, first.stream_version) == ((1, 2), 2)
    assert (second.positions, second.stream_version) == ((3,), 1)
    assert (third.positions, third.stream_version) == ((4,), 3)
    log = list(store.read_all())
    assert [e.position for e in log] == [1, 2, 3, 4]
    assert [(e.stream_id, e.stream_version) for e in log] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("a", 3),
    ]
    assert [e.data["i"] for e in log] == [1, 2, 3, 4]
    assert store.head() == 4
    assert store.stream_version("a") == 3


@fixture_per_test
@given(batch=st.lists(new_events(), min_size=1, max_size=4, unique_by=lambda e: e.event_id))
def test_events_come_back_exactly_as_appended(
    store_per_example: Callable[[], AbstractContextManager[EventStore]], batch: list[NewEvent]
) -> None:
    with store_per_example() as store:
        before = utc_now()
        result = store.append(stream(), batch, NO_STREAM)
        after = utc_now()
        stored = list(store.read_all())
    assert [as_new(e) for e in stored] == batch
    assert [e.position for e in stored] == list(result.positions) == list(range(1, len(batch) + 1))
    for recorded in stored:
        for moment in (recorded.occurred_at, recorded.recorded_at):
            assert moment.tzinfo is not None
            assert moment.utcoffset() == UTC.utcoffset(None)
            assert moment.microsecond % 1000 == 0
        # The store's clock, read on this machine: equal to ours within a few milliseconds.
        assert before - CLOCK_SLACK <= recorded.recorded_at <= after + CLOCK_SLACK


@fixture_per_test
@given(domain_event=domain_events, meta=metadata, occurred_at=utc_times)
def test_every_event_type_round_trips_through_the_store(
    store_per_example: Callable[[], AbstractContextManager[EventStore]],
    domain_event: DomainEvent,
    meta: Metadata,
    occurred_at: datetime,
) -> None:
    codec = Codec()
    record = codec.to_new_event(
        domain_event,
        event_id=uuid.uuid4(),
        occurred_at=occurred_at,
        metadata=meta,
    )
    with store_per_example() as store:
        store.append(domain_event.stream_id, [record])
        (stored,) = store.read_all()
    assert codec.decode(stored) == domain_event
    assert stored.occurred_at == occurred_at
    assert stored.metadata == meta


def test_a_wrong_expected_version_raises_and_stores_nothing(store: EventStore) -> None:
    store.append("s", [event(), event()], NO_STREAM)
    cases: list[tuple[ExpectedVersion, object]] = [(NO_STREAM, "no_stream"), (1, 1), (3, 3)]
    for expected, shown in cases:
        with pytest.raises(WrongExpectedVersionError) as caught:
            store.append("s", [event()], expected)
        assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
            "s",
            shown,
            2,
        )
    assert store.head() == 2
    assert store.append("s", [event()], 2).stream_version == 3
    assert store.append("s", [event()], ANY).stream_version == 4
    with pytest.raises(WrongExpectedVersionError):
        store.append("new", [event()], 1)
    assert store.append("new", [event()], 0).stream_version == 1


def test_appending_stored_events_again_stores_nothing_and_returns_their_positions(
    store: EventStore,
) -> None:
    batch = [event(i=1), event(i=2)]
    store.append("other", [event()])
    original = store.append("s", batch, NO_STREAM)
    store.append("s", [event()])
    again = store.append("s", batch, NO_STREAM)  # even the stale expectation is fine
    assert again.positions == original.positions == (2, 3)
    assert again.already_stored
    assert not original.already_stored
    assert store.head() == 4
    assert [e.event_id for e in store.read_all()].count(batch[0].event_id) == 1


def test_idempotency_survives_reopening_the_store(store_url: str) -> None:
    batch = [event(), event()]
    with open_store(store_url) as first:
        positions = first.append("s", batch).positions
    with open_store(store_url) as second:
        result = second.append("s", batch)
        assert (result.positions, result.already_stored) == (positions, True)
        assert second.head() == 2


def test_partly_stored_ids_are_refused_and_nothing_is_stored(store: EventStore) -> None:
    stored = event()
    store.append("s", [stored])
    with pytest.raises(DuplicateEventError) as caught:
        store.append("s", [stored, event()])
    assert caught.value.event_ids == (str(stored.event_id),)
    with pytest.raises(DuplicateEventError):
        store.append("elsewhere", [stored])
    repeated = event()
    with pytest.raises(DuplicateEventError):
        store.append("s", [repeated, repeated])
    assert store.head() == 1


@pytest.mark.parametrize(
    ("stream_id", "events", "field"),
    [("s", [], "events"), ("", "one", "stream_id"), ("s", ["not an event"], "events[0]")],
)
def test_malformed_appends_name_their_fault(
    store: EventStore, stream_id: str, events: object, field: str
) -> None:
    batch = [event()] if events == "one" else events
    with pytest.raises(InvalidEventError) as caught:
        store.append(stream_id, wrong(batch), ANY)
    assert caught.value.field == field
    assert store.head() == 0


LONE_SURROGATE = "\ud800"
Call = Callable[[EventStore], object]


WRONG_APPENDS: list[tuple[str, Call, str]] = [
    ("append(5, ...)", lambda s: s.append(wrong(5), [event()]), "stream_id"),
    ("append(None, ...)", lambda s: s.append(wrong(None), [event()]), "stream_id"),
    ("append(surrogate, ...)", lambda s: s.append(LONE_SURROGATE, [event()]), "stream_id"),
    ("append(s, 5)", lambda s: s.append("s", wrong(5)), "events"),
    ("append(s, None)", lambda s: s.append("s", wrong(None)), "events"),
    ("append(s, 'text')", lambda s: s.append("s", wrong("text")), "events"),
    ("append(s, generator)", lambda s: s.append("s", wrong(e for e in [event()])), "events"),
    ("append(s, {0: event})", lambda s: s.append("s", wrong({0: event()})), "events"),
]
WRONG_READS: list[tuple[str, Call, str]] = [
    ("read_all('1')", lambda s: s.read_all(wrong("1")), "after"),
    ("read_all(1.5)", lambda s: s.read_all(wrong(1.5)), "after"),
    ("read_all(None)", lambda s: s.read_all(wrong(None)), "after"),
    ("read_all(True)", lambda s: s.read_all(True), "after"),
    ("read_all(-1)", lambda s: s.read_all(-1), "after"),
    ("read_all(2**63)", lambda s: s.read_all(2**63), "after"),
    ("read_all(batch_size=0)", lambda s: s.read_all(batch_size=0), "batch_size"),
    ("read_all(batch_size=-1)", lambda s: s.read_all(batch_size=-1), "batch_size"),
    ("read_all(batch_size='5')", lambda s: s.read_all(batch_size=wrong("5")), "batch_size"),
    ("read_all(batch_size=2**31)", lambda s: s.read_all(batch_size=2**31), "batch_size"),
    ("read_stream(5)", lambda s: s.read_stream(wrong(5)), "stream_id"),
    ("read_stream(None)", lambda s: s.read_stream(wrong(None)), "stream_id"),
    ("read_stream(['s'])", lambda s: s.read_stream(wrong(["s"])), "stream_id"),
    ("read_stream('')", lambda s: s.read_stream(""), "stream_id"),
    ("read_stream(surrogate)", lambda s: s.read_stream(LONE_SURROGATE), "stream_id"),
    ("read_stream(s,'1')", lambda s: s.read_stream("s", after_version=wrong("1")), "after_version"),
    ("read_stream(s, -1)", lambda s: s.read_stream("s", after_version=-1), "after_version"),
    ("read_stream(s, 2**63)", lambda s: s.read_stream("s", after_version=2**63), "after_version"),
    ("stream_version(5)", lambda s: s.stream_version(wrong(5)), "stream_id"),
    ("stream_version(None)", lambda s: s.stream_version(wrong(None)), "stream_id"),
    ("stream_version(['s'])", lambda s: s.stream_version(wrong(["s"])), "stream_id"),
    ("stream_version('')", lambda s: s.stream_version(""), "stream_id"),
    ("stream_version(surrogate)", lambda s: s.stream_version(LONE_SURROGATE), "stream_id"),
    ("read_event(str)", lambda s: s.read_event(wrong(str(uuid.uuid4()))), "event_id"),
    ("read_event(None)", lambda s: s.read_event(wrong(None)), "event_id"),
    ("read_event(int)", lambda s: s.read_event(wrong(uuid.uuid4().int)), "event_id"),
]


@pytest.mark.parametrize(
    ("call", "field"), [case[1:] for case in WRONG_APPENDS], ids=[c[0] for c in WRONG_APPENDS]
)
def test_an_append_of_wrong_types_is_an_invalid_event_naming_the_argument(
    store: EventStore, call: Call, field: str
) -> None:
    store.append("s", [event()])
    with pytest.raises(CirecError) as caught:
        call(store)
    assert type(caught.value) is InvalidEventError
    assert caught.value.field == field
    assert store.head() == 1


@pytest.mark.parametrize(
    ("call", "field"), [case[1:] for case in WRONG_READS], ids=[c[0] for c in WRONG_READS]
)
def test_a_read_with_wrong_arguments_is_refused_at_the_call_naming_the_argument(
    store: EventStore, call: Call, field: str
) -> None:
    store.append("s", [event()])
    # Refused when called, not on the first next(): nothing is iterated here.
    with pytest.raises(CirecError) as caught:
        call(store)
    assert type(caught.value) is InvalidArgumentError
    assert caught.value.field == field


def test_an_event_is_read_back_by_its_id_from_any_stream_and_place(store: EventStore) -> None:
    store.append("a", [event(n=1)])
    batch = [event(n=n) for n in range(2, 6)]
    store.append("b", batch)
    store.append("a", [event(n=6)])
    log = list(store.read_all())
    for recorded in log:
        assert store.read_event(recorded.event_id) == recorded
    assert store.read_event(uuid.uuid4()) is None


def test_the_widest_valid_arguments_are_accepted(store: EventStore) -> None:
    store.append("s", [event()])
    assert list(store.read_all(2**63 - 1, batch_size=2**31 - 1)) == []
    assert [e.position for e in store.read_all(0, batch_size=1)] == [1]
    assert list(store.read_stream("s", after_version=2**63 - 1)) == []
    assert store.stream_version("never appended to") == 0


@pytest.mark.parametrize("expected", [-1, "2", 1.5, True])
def test_a_malformed_expected_version_is_refused(store: EventStore, expected: object) -> None:
    with pytest.raises(InvalidEventError) as caught:
        store.append("s", [event()], wrong(expected))
    assert caught.value.field == "expected_version"


@pytest.mark.parametrize("batch_size", [1, 2, 3, 500])
def test_reading_in_batches_of_any_size_gives_the_same_log(
    store: EventStore, batch_size: int
) -> None:
    for i in range(7):
        store.append(f"s{i % 2}", [event(i=i, j=k) for k in range(i % 3 + 1)])
    whole = list(store.read_all())
    assert [e.position for e in whole] == list(range(1, len(whole) + 1))
    assert list(store.read_all(batch_size=batch_size)) == whole
    for after in range(len(whole) + 2):  # from every commit's start, middle and end
        assert list(store.read_all(after, batch_size=batch_size)) == whole[after:]


def test_a_stream_reads_in_version_order_from_any_version(store: EventStore) -> None:
    for i in range(5):
        store.append("s", [event(i=i), event(i=i)])
        store.append("t", [event(i=i)])
    versions = [e.stream_version for e in store.read_stream("s")]
    assert versions == list(range(1, 11))
    assert [e.stream_version for e in store.read_stream("s", after_version=3)] == list(range(4, 11))
    assert all(e.stream_id == "t" for e in store.read_stream("t"))


def test_stores_opened_side_by_side_share_one_log(
    store_factory: Callable[[], EventStore], store_url: str
) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        one.append("s", [event()], NO_STREAM)
        two.append("s", [event()], 1)  # two learns of one's append from the store itself
        one.append("s", [event()], 2)
        assert [e.position for e in two.read_all()] == [1, 2, 3]
        assert one.stream_version("s") == two.stream_version("s") == 3


def test_an_append_too_large_for_one_document_is_refused_everywhere(store: EventStore) -> None:
    store.append("s", [event()])
    chunk = "x" * (1024 * 1024)
    with pytest.raises(AppendTooLargeError) as caught:
        store.append("s", [event(log=chunk) for _ in range(16)])
    assert caught.value.size > caught.value.limit
    assert store.head() == 1
    assert store.append("s", [event(log=chunk) for _ in range(14)]).stream_version == 15
