"""Consecutive batches of the log, read through one open read while they follow on.

A read of the log (``EventStore.read_all``) starts by finding where to begin: on MongoDB
the commit holding the position, then a page of commits after it; on the embedded store
a query from that position. A worker that asked afresh for each batch of a catch-up paid
that start once a batch, and read the page it had stopped inside again. Kept open, the
read goes on from where the last batch ended, and each page is read once.

A batch stops at a number of events or at a size of payloads, whichever comes first
(:func:`payload_size`), so a log of large events (log chunks of up to 1 MiB) is folded in
batches of bounded memory, and one of small events in batches of many.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from eventstore.records import RecordedEvent
from eventstore.store import EventStore

DEFAULT_BATCH_BYTES: Final = 4 * 1024 * 1024
"""Where a batch stops by size: 4 MiB of payloads (see :func:`payload_size`).

That is what one page of MongoDB's log reads holds (``READ_BUDGET_BYTES``), and about
twice what 500 events of the benchmark's workload hold (4.5 KiB on average), so the
count ends those batches, and a log of 1 MiB chunks is folded 4 events at a time."""
_SCALAR: Final = 8


def payload_size(data: Any) -> int:
    """Return the characters of every string (keys included) in ``data``, plus 8 per other value.

    A cheap measure of a payload's share of a batch's memory, within a small factor of
    its JSON text (never above it for text that needs no escapes).
    """
    if isinstance(data, str):
        return len(data)
    if isinstance(data, dict):
        return sum(len(key) + payload_size(value) for key, value in data.items())
    if isinstance(data, list):
        return sum(payload_size(item) for item in data)
    return _SCALAR


class LogReader:
    """Hands out batches of the log; a batch that follows the last one continues its read."""

    def __init__(self, events: EventStore) -> None:
        self._events = events
        self._open: Iterator[RecordedEvent] | None = None
        self._at = -1
        """The position of the last event the open read handed out."""

    def batch(
        self, after: int, count: int, max_bytes: int | None = None
    ) -> tuple[list[RecordedEvent], bool]:
        """Return the events after position ``after``, in order, and whether the batch is full.

        The batch ends after ``count`` events, or at the first event that brings the
        :func:`payload_size` of its events to ``max_bytes`` or more (None: no limit), or
        at the head of the log: full in the first two cases. When the head is reached
        the read is closed, and the next batch starts a new read, which sees whatever
        was appended meanwhile. So is a read that failed (a lost connection): the next
        batch starts afresh.
        """
        if self._open is None or self._at != after:
            self._open = self._events.read_all(after, batch_size=count)
        taken: list[RecordedEvent] = []
        size = 0
        full = False
        try:
            for record in self._open:
                taken.append(record)
                if max_bytes is not None:
                    size += payload_size(record.data)
                if len(taken) >= count or (max_bytes is not None and size >= max_bytes):
                    full = True
                    break
        except BaseException:
            self._open, self._at = None, -1
            raise
        if full:
            self._at = taken[-1].position
        else:
            self._open, self._at = None, -1
        return taken, full
