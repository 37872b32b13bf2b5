"""Consecutive batches of the log, read through one open read while they follow on.

A read of the log (``EventStore.read_all``) starts by finding where to begin: on MongoDB
the commit holding the position, then a page of commits after it; on the embedded store
a query from that position. A worker that asked afresh for each batch of a catch-up paid
that start once a batch, and read the page it had stopped inside again. Kept open, the
read goes on from where the last batch ended, and each page is read once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from eventstore.records import RecordedEvent
from eventstore.store import EventStore


class LogReader:
    """Hands out batches of the log; a batch that follows the last one continues its read."""

    def __init__(self, events: EventStore) -> None:
        self._events = events
        self._open: Iterator[RecordedEvent] | None = None
        self._at = -1
        """The position of the last event the open read handed out."""

    def batch(self, after: int, count: int) -> list[RecordedEvent]:
        """Return the (at most) ``count`` events after position ``after``, in order.

        A short batch means the read reached the head: it is closed, and the next batch
        starts a new read, which sees whatever was appended meanwhile. So is a read that
        failed (a lost connection): the next batch starts afresh.
        """
        if self._open is None or self._at != after:
            self._open = self._events.read_all(after, batch_size=count)
        try:
            taken = list(itertools.islice(self._open, count))
        except BaseException:
            self._open, self._at = None, -1
            raise
        if len(taken) < count:
            self._open, self._at = None, -1
        else:
            self._at = taken[-1].position
        return taken
