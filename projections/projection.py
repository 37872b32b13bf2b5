"""What a projection is: a name, the key of the document an event touches, and a pure fold.

A fold is ``(document | None, envelope) -> document | None``: it knows nothing of any
database, reads nothing but its arguments and returns a new value (documents are frozen).
Each projection dispatches to one handler per event type, named after the event and
given the event itself and when it occurred; an event type without a handler does not
concern the projection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from attrs import frozen

from eventstore.catalog import DomainEvent
from eventstore.codec import Codec
from eventstore.records import RecordedEvent

D = TypeVar("D")


@frozen
class Envelope:
    """A decoded event with what folds may use of its record: its position and time."""

    position: int
    occurred_at: datetime
    event: DomainEvent

    @classmethod
    def of(cls, record: RecordedEvent, codec: Codec) -> Envelope:
        """Decode ``record`` (upcasting it if it is of an older schema version)."""
        return cls(record.position, record.occurred_at, codec.decode(record))


Handler = Callable[[Any, Any, datetime], Any]
"""``(document | None, event, occurred_at) -> document | None`` for one event type."""


@frozen
class Projection(Generic[D]):
    """One read model: its collection name, its document type and its fold."""

    name: str
    document_type: type[D]
    key: Callable[[Any], str]
    """The id of the document an event of a handled type touches."""
    handlers: Mapping[type[Any], Handler]

    def key_of(self, event: DomainEvent) -> str | None:
        """Return the id of the document ``event`` touches, or None if it touches none."""
        return self.key(event) if type(event) in self.handlers else None

    def fold(self, document: D | None, envelope: Envelope) -> D | None:
        """Return the document after ``envelope`` (unchanged if its type is not handled)."""
        handler = self.handlers.get(type(envelope.event))
        if handler is None:
            return document
        result: D | None = handler(document, envelope.event, envelope.occurred_at)
        return result
