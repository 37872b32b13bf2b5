"""The true documents of unwritable keys: held in memory, or replayed from the log.

When a key's document cannot be written (:mod:`projections.unwritable`), the store
keeps its last document that fitted, which lacks the events folded since. To fold the
key's next events the projector needs the document it could not write: the worker that
marked the key holds it in memory; any other (a restarted one) replays the key's
events from the log up to the mark's position, once, and holds the result. Holding is
only a shortcut: a held document is used only while its position is the mark's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeVar

from eventstore.codec import Codec
from eventstore.store import EventStore
from projections.folding import fold
from projections.projection import Envelope, Projection
from projections.store import Versioned
from projections.unwritable import Unwritable

D = TypeVar("D")
HELD: Final = 4
"""How many unwritable documents a worker holds in memory (each is over 8 MiB)."""
_READ_BATCH: Final = 500


class HeldDocuments:
    """The documents a worker could not write, by (projection, version, key)."""

    def __init__(self, events: EventStore, codec: Codec) -> None:
        self._events = events
        self._codec = codec
        self._held: OrderedDict[tuple[str, str, str], Versioned[Any]] = OrderedDict()

    def hold(self, projection: Projection[D], version: str, key: str, state: Versioned[D]) -> None:
        """Keep ``state``, the document of ``key`` that was not written; forget the oldest."""
        self._held[(projection.name, version, key)] = state
        self._held.move_to_end((projection.name, version, key))
        while len(self._held) > HELD:
            self._held.popitem(last=False)

    def release(self, projection: Projection[D], version: str, key: str) -> None:
        """Forget ``key``'s document: it was written."""
        self._held.pop((projection.name, version, key), None)

    def states(
        self, projection: Projection[D], version: str, marks: Mapping[str, Unwritable]
    ) -> dict[str, Versioned[D]]:
        """Return the document each mark in effect stands for, at the mark's position.

        Held ones come from memory; the others are replayed, all in one read of the log up
        to the highest of their positions.
        """
        found: dict[str, Versioned[D]] = {}
        missing: dict[str, int] = {}
        for key, mark in marks.items():
            held = self._held.get((projection.name, version, key))
            if held is not None and held.position == mark.position:
                found[key] = held
            else:
                missing[key] = mark.position
        if missing:
            replayed = fold(projection, {}, self._replay(projection, missing))
            for key, state in replayed.items():
                self.hold(projection, version, key, state)
                found[key] = state
        return found

    def _replay(self, projection: Projection[Any], upto: Mapping[str, int]) -> Iterator[Envelope]:
        """Yield the events of the keys of ``upto``, each up to its position, in log order."""
        last = max(upto.values())
        handled = projection.handled_types
        for record in self._events.read_all(batch_size=_READ_BATCH):
            if record.position > last:
                return
            if record.type not in handled:
                continue  # decode only what the projection folds
            envelope = Envelope.of(record, self._codec)
            key = projection.key_of(envelope.event)
            if key is not None and key in upto and envelope.position <= upto[key]:
                yield envelope
