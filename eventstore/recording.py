"""The core of the recorder: one catalog event in, one append out, its envelope filled in.

It fills in what the engine should not have to: a fresh ``event_id``, the ``occurred_at``
time and the metadata (the actor, and the correlation and causation ids it is given).
Every event is validated as it is built, before anything is appended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import frozen

from eventstore.catalog import DomainEvent, RunStarted
from eventstore.codec import Codec
from eventstore.records import ANY, ExpectedVersion, Metadata
from eventstore.store import EventStore


def expected_version_for(event: DomainEvent) -> ExpectedVersion:
    """Return what an emitted ``event`` expects of its stream.

    A ``RunStarted`` claims its ``run_number``, so it needs its pipeline's run-number stream
    at exactly the number before; every other event appends whatever its stream's version.
    """
    return event.expected_version if isinstance(event, RunStarted) else ANY


@frozen(kw_only=True)
class Receipt:
    """Where an event was stored."""

    event_id: UUID
    stream_id: str
    position: int
    stream_version: int
    already_stored: bool
    """True when the event had been stored by an earlier call (a retry)."""


class EventRecorder:
    """Appends catalog events to their streams (the base of :class:`~eventstore.Recorder`).

    The constructor of :class:`~eventstore.Recorder` sets what this reads.
    """

    _store: EventStore
    _actor: str
    _codec: Codec
    _clock: Callable[[], datetime]
    _new_id: Callable[[], UUID]

    def record(
        self,
        event: DomainEvent,
        *,
        expected_version: ExpectedVersion = ANY,
        event_id: UUID | None = None,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> Receipt:
        """Append one catalog event to its stream; ``event_id`` makes a retry idempotent."""
        event_id = event_id or self._new_id()
        metadata = Metadata(
            correlation_id=correlation_id, causation_id=causation_id, actor=self._actor
        )
        record = self._codec.to_new_event(
            event, event_id=event_id, occurred_at=self._clock(), metadata=metadata
        )
        result = self._store.append(event.stream_id, [record], expected_version)
        return Receipt(
            event_id=event_id,
            stream_id=event.stream_id,
            position=result.positions[0],
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )

    def emit(self, raw: Mapping[str, Any]) -> Receipt:
        """Validate one event in its documented JSON form and append it to its stream.

        A ``RunStarted`` is appended with the expected version its ``run_number`` implies,
        so a wrong or reused run number is refused. Raises :class:`InvalidEventError`
        naming the field at fault; nothing of a rejected event is stored.
        """
        record, event = self._codec.parse_new_event(raw)
        result = self._store.append(event.stream_id, [record], expected_version_for(event))
        return Receipt(
            event_id=record.event_id,
            stream_id=event.stream_id,
            position=result.positions[0],
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )
