"""The projector's reader hands out the log batch by batch, through one read while they follow."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from eventstore.records import RecordedEvent
from eventstore.store import EventStore
from projections.log_reader import LogReader, payload_size
from tests.workers import new_event


class CountingReads:
    """Passes ``read_all`` on to a real store, counting the reads it starts."""

    def __init__(self, events: EventStore) -> None:
        self.events = events
        self.reads = 0

    def read_all(self, after: int = 0, **options: Any) -> Iterator[RecordedEvent]:
        self.reads += 1
        return self.events.read_all(after, **options)


def positions(batch: list[RecordedEvent]) -> list[int]:
    return [event.position for event in batch]


def test_batches_that_follow_on_share_one_read_and_match_fresh_reads(store: EventStore) -> None:
    for _ in range(10):
        store.append("s", [new_event()])
    counting = CountingReads(store)
    reader = LogReader(counting)  # type: ignore[arg-type]  # only read_all is used
    for after in (0, 3, 6):
        batch = reader.batch(after, 3)[0]
        assert batch == list(itertools.islice(store.read_all(after), 3))
    assert counting.reads == 1
    assert positions(reader.batch(9, 3)[0]) == [10]  # short: the head
    assert counting.reads == 1


def test_a_batch_after_the_head_or_elsewhere_starts_a_new_read(store: EventStore) -> None:
    for _ in range(10):
        store.append("s", [new_event()])
    counting = CountingReads(store)
    reader = LogReader(counting)  # type: ignore[arg-type]  # only read_all is used
    assert positions(reader.batch(0, 20)[0]) == list(range(1, 11))
    assert reader.batch(10, 20)[0] == []
    store.append("s", [new_event(), new_event()])
    assert positions(reader.batch(10, 1)[0]) == [11]  # appended since the read at the head
    assert positions(reader.batch(4, 2)[0]) == [5, 6]  # not where the last batch ended
    assert positions(reader.batch(6, 1)[0]) == [7]
    assert counting.reads == 4


def test_a_batch_stops_at_its_payload_bytes_and_the_next_continues_the_read(
    store: EventStore,
) -> None:
    for _ in range(10):
        store.append("s", [new_event(text="x" * 100)])
    size = payload_size(next(iter(store.read_all())).data)
    counting = CountingReads(store)
    reader = LogReader(counting)  # type: ignore[arg-type]  # only read_all is used
    batch, full = reader.batch(0, 10, max_bytes=3 * size)
    assert (positions(batch), full) == ([1, 2, 3], True)  # the third reaches the bytes
    batch, full = reader.batch(3, 10, max_bytes=3 * size - 1)
    assert (positions(batch), full) == ([4, 5, 6], True)
    batch, full = reader.batch(6, 10, max_bytes=100 * size)
    assert (positions(batch), full) == ([7, 8, 9, 10], False)  # the head
    assert counting.reads == 1
