"""Reading the whole log streams it: memory stays bounded by the batch, not the log."""

from __future__ import annotations

import tracemalloc

from eventstore.store import EventStore
from tests.workers import new_event

HALF, PER_APPEND, PAYLOAD = 1000, 50, "x" * 1024


def append_events(store: EventStore, count: int) -> None:
    for _ in range(0, count, PER_APPEND):
        store.append("s", [new_event(pad=PAYLOAD) for _ in range(PER_APPEND)])


def peak_while_reading(store: EventStore) -> tuple[int, int]:
    """Read the whole log; return how many events it held and the peak traced memory."""
    tracemalloc.start()
    try:
        seen = 0
        for event in store.read_all(batch_size=2):
            seen += 1
            assert event.position == seen
        return seen, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_the_whole_log_holds_one_batch_at_a_time(store: EventStore) -> None:
    append_events(store, HALF)
    seen_half, peak_half = peak_while_reading(store)
    append_events(store, HALF)
    seen_full, peak_full = peak_while_reading(store)

    assert (seen_half, seen_full) == (HALF, 2 * HALF)
    # Twice the log, not twice the memory; and far less than the log's payload alone.
    assert peak_full < 1.5 * peak_half, (peak_half, peak_full)
    assert peak_full < 2 * HALF * len(PAYLOAD) / 2, peak_full
