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
from eventstore.catalog.runs import RunEvent
from eventstore.codec import Codec
from eventstore.records import ANY, ExpectedVersion, Metadata, NewEvent
from eventstore.run_gate import RunGate
from eventstore.run_ledger import run_started_event_id
from eventstore.run_state import RunState
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
    """True when the event had been stored by an earlier call (a retry), or, for a log
    chunk, the same text at the same index was; then nothing was appended."""


class EventRecorder:
    """Appends catalog events to their streams (the base of :class:`~eventstore.Recorder`).

    The constructor of :class:`~eventstore.Recorder` sets what this reads. Events of runs
    pass the :class:`~eventstore.run_gate.RunGate`: what a run's history forbids is
    refused with :class:`~eventstore.errors.LifecycleError`, and nothing is stored.
    """

    _store: EventStore
    _gate: RunGate
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
        """Append one catalog event to its stream; ``event_id`` makes a retry idempotent.

        A ``RunStarted`` gets the event id its run implies (:func:`run_started_event_id`)
        unless one is given, and must carry it.
        """
        if event_id is None and isinstance(event, RunStarted):
            event_id = run_started_event_id(event.run_id)
        event_id = event_id or self._new_id()
        metadata = Metadata(
            correlation_id=correlation_id, causation_id=causation_id, actor=self._actor
        )
        return self._append(
            event,
            event_id,
            lambda _: self._new_record(event, event_id, metadata),
            expected_version,
        )

    def emit(self, raw: Mapping[str, Any]) -> Receipt:
        """Validate one event in its documented JSON form and append it to its stream.

        A ``RunStarted`` is appended with the expected version its ``run_number`` implies,
        so a wrong or reused run number is refused. Raises :class:`InvalidEventError`
        naming the field at fault (a :class:`LifecycleError` when the event's run forbids
        it); nothing of a rejected event is stored.
        """
        record, event = self._codec.parse_new_event(raw)
        return self._append(event, record.event_id, lambda _: record, expected_version_for(event))

    def _new_record(self, event: DomainEvent, event_id: UUID, metadata: Metadata) -> NewEvent:
        """Return the record of ``event``, stamped with the recorder's clock."""
        return self._codec.to_new_event(
            event, event_id=event_id, occurred_at=self._clock(), metadata=metadata
        )

    def _append(
        self,
        event: DomainEvent,
        event_id: UUID,
        record_for: Callable[[RunState | None], NewEvent],
        expected_version: ExpectedVersion,
        known: RunState | None = None,
    ) -> Receipt:
        """Append ``event`` as the record ``record_for`` builds, through the run gate.

        ``known`` is its run's state as just read, if the caller has read it.
        """
        if isinstance(event, RunEvent):
            result = self._gate.append_step(event, event_id, record_for, known)
        else:
            stored = (
                self._gate.check_start(event, event_id) if isinstance(event, RunStarted) else None
            )
            result = stored or self._store.append(
                event.stream_id, [record_for(None)], expected_version
            )
        return Receipt(
            event_id=event_id,
            stream_id=event.stream_id,
            position=result.positions[0],
            stream_version=result.stream_version,
            already_stored=result.already_stored,
        )
