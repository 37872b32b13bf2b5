"""Whether a store is the demo's to play into: empty, or holding only the demo's own events.

The check reads at most :data:`~cirec.demo.ids.DAY_DRAWS` events, whatever the size of
the log: positions are gap-free, so the log's head is its number of events, and a log
longer than one day cannot be the demo's alone. On MongoDB ``head`` reads one document
down the position index and the events are read by position range on the same index.
"""

from __future__ import annotations

from cirec.demo.ids import DAY_DRAWS, day_event_ids
from eventstore.errors import CirecError
from eventstore.store import EventStore


class ForeignEventsError(CirecError):
    """Raised when the demo is asked to play into a store holding events not its own.

    ``location`` is the store's URL, redacted; ``events`` how many events the store holds.
    Nothing has been written.
    """

    def __init__(self, location: str, events: int) -> None:
        self.location = location
        self.events = events
        super().__init__(
            f"{location} holds {events} events that are not all the demo's, so the demo"
            " does not play into it: run cirec demo without --db to use the demo's own"
            " store, or add --force to play the day there anyway (once: a rerun adds nothing)"
        )


def foreign_events(store: EventStore) -> int:
    """Return how many events ``store`` holds if some are not the demo's, else 0.

    0 for an empty store and for one holding only events a play of the day stores (a
    whole day, or the start of one that was interrupted).
    """
    head = store.head()
    if head == 0:
        return 0
    if head > DAY_DRAWS:
        return head
    ours = day_event_ids()
    if all(event.event_id in ours for event in store.read_all(batch_size=head)):
        return 0
    return head


def refuse_foreign_events(store: EventStore, location: str) -> None:
    """Raise :class:`ForeignEventsError` unless ``store`` is empty or holds only the demo's."""
    events = foreign_events(store)
    if events:
        raise ForeignEventsError(location, events)
