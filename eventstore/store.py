"""The store port: the small interface every event store adapter implements.

The contract, which ``tests/contract`` checks against every adapter:

* ``append`` is atomic: all the events of one call become visible together or none do.
* Positions are gap-free and strictly increasing over the whole log (1, 2, 3 …), stream
  versions are 1, 2, 3 … per stream, and an event at position p is visible only once every
  event before p is: a reader that has seen p never later finds a new event at or below p.
* Appending events whose ``event_id``s are all stored already, in the same stream, stores
  nothing and returns the stored positions, however long ago the first append was.
* No driver exception escapes: failures are :mod:`eventstore.errors` types, all of them
  :class:`~eventstore.errors.CirecError`.
* Arguments are checked when a method is called, before anything is read (for
  ``read_all`` and ``read_stream`` too, not on the first ``next``): a stream id is a
  non-empty string, positions and versions are ints from 0, and a wrong type or value
  raises :class:`~eventstore.errors.InvalidArgumentError` naming the argument (an
  :class:`~eventstore.errors.InvalidEventError` for ``append``). Nothing is coerced:
  ``read_all("1")`` is refused, not read as an empty log.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from uuid import UUID

from eventstore.closing import Closing
from eventstore.records import ANY, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from eventstore.wakeup import LOOK_EVERY_SECONDS, Wakeup

DEFAULT_BATCH_SIZE = 500


class EventStore(Closing):
    """An append-only log of events, grouped in streams, with one global order."""

    backend: str
    """Short name of the backend, for messages: ``"mongodb"`` or ``"sqlite"``."""

    @abstractmethod
    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> AppendResult:
        """Append ``events`` to the end of ``stream_id``, all or nothing.

        ``expected_version`` is ``ANY``, ``NO_STREAM`` or the exact current version of the
        stream; a mismatch raises :class:`WrongExpectedVersionError` (carrying stream,
        expected and actual) and stores nothing. If every event id of the call is stored
        already in this stream, nothing is stored and the original positions are returned
        with ``already_stored=True``, whatever the expected version. Ids stored only in
        part, stored in another stream, or repeated within the call raise
        :class:`DuplicateEventError`. ``events`` must be a non-empty list or tuple of
        :class:`NewEvent`; anything else raises :class:`InvalidEventError`, as does a
        ``stream_id`` that is not a non-empty string.
        """

    @abstractmethod
    def read_all(
        self, after: int = 0, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[RecordedEvent]:
        """Yield every event at a position greater than ``after``, in position order.

        Events are fetched ``batch_size`` at a time, so memory stays constant however long
        the log is. Events appended while the iterator runs may or may not be yielded;
        call again with the last position seen to continue. ``after`` is an int >= 0 and
        ``batch_size`` an int from 1 to ``arguments.MAX_BATCH_SIZE``; anything else
        raises :class:`InvalidArgumentError` naming it, at the call.
        """

    @abstractmethod
    def read_stream(self, stream_id: str, *, after_version: int = 0) -> Iterator[RecordedEvent]:
        """Yield the events of ``stream_id`` with a version greater than ``after_version``.

        Nothing for a stream with no events. A ``stream_id`` that is not a non-empty
        string, or an ``after_version`` that is not an int >= 0, raises
        :class:`InvalidArgumentError` naming it, at the call.
        """

    @abstractmethod
    def read_event(self, event_id: UUID) -> RecordedEvent | None:
        """Return the stored event whose id is ``event_id``, or None if none is stored.

        An ``event_id`` that is not a :class:`uuid.UUID` raises
        :class:`InvalidArgumentError` naming it, before anything is read.
        """

    @abstractmethod
    def stream_version(self, stream_id: str) -> int:
        """Return the version of ``stream_id``: its number of events, 0 if it has none.

        A ``stream_id`` that is not a non-empty string raises :class:`InvalidArgumentError`.
        """

    @abstractmethod
    def head(self) -> int:
        """Return the position of the last event in the log, 0 if the log is empty."""

    def wakeup(self, look_every: float = LOOK_EVERY_SECONDS) -> Wakeup:
        """Return a new follower's :class:`Wakeup` on this log; close it when done.

        It is woken at once by the commit notices of writers on this log where the
        adapter has them, and in any case reads the head every ``look_every`` seconds,
        so a writer that cannot notify delays a follower by at most that long. It
        listens from this call on: a follower opens it before its first read, so no
        append committed after that read goes unnoticed. This default has no notices.
        """
        return Wakeup(self.head, look_every)
