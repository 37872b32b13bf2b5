"""The stored record: what an emitter hands the store and what the store gives back.

These values are separate from the domain events of :mod:`eventstore.catalog`; the codec
(:mod:`eventstore.codec`) is the one mapper between them. A store needs nothing but these.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID

from attrs import field, frozen

from eventstore import validation as v
from eventstore.clock import normalise_time
from eventstore.errors import InvalidEventError


class ExpectedState(enum.Enum):
    """What an append may expect of its stream besides an exact version."""

    ANY = "any"
    """Append whatever the stream's version."""
    NO_STREAM = "no_stream"
    """Append only if the stream has no event yet."""


ANY = ExpectedState.ANY
NO_STREAM = ExpectedState.NO_STREAM

ExpectedVersion: TypeAlias = ExpectedState | int
"""``ANY``, ``NO_STREAM``, or the exact version (1, 2, …) the stream must be at."""


def check_expected_version(expected: ExpectedVersion) -> ExpectedVersion:
    """Return ``expected`` normalised (``0`` means ``NO_STREAM``); reject anything else."""
    if isinstance(expected, ExpectedState):
        return expected
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidEventError(
            "expected_version", "must be 'any', 'no_stream' or a version >= 0", expected
        )
    return NO_STREAM if expected == 0 else expected


def expectation_met(expected: ExpectedVersion, actual: int) -> bool:
    """Tell whether a stream at version ``actual`` satisfies ``expected``."""
    if expected is ANY:
        return True
    if expected is NO_STREAM:
        return actual == 0
    return actual == expected


@frozen(kw_only=True)
class Metadata:
    """Who and what caused an event: the thread of a CI run through the log."""

    correlation_id: UUID | None = field(default=None, validator=v.optional_uuid)
    """Ties together every event of one piece of work (a run's events carry its ``run_id``)."""
    causation_id: UUID | None = field(default=None, validator=v.optional_uuid)
    """The ``event_id`` of the event that caused this one, if any."""
    actor: str | None = field(default=None, validator=v.optional_text(max_length=1024))
    """Who emitted the event: a user, a runner, the engine itself."""


def _occurred_at(value: datetime) -> datetime:
    return normalise_time(value, "occurred_at")


@frozen(kw_only=True)
class NewEvent:
    """An event ready to append: validated envelope plus the JSON object of its payload."""

    event_id: UUID = field(validator=v.uuid)
    """Chosen by the emitter; the idempotency key of the append."""
    type: str = field(validator=v.text(non_empty=True, max_length=200))
    schema_version: int = field(validator=v.integer(minimum=1, maximum=10_000))
    occurred_at: datetime = field(converter=_occurred_at)
    """The emitter's clock, kept in UTC and cut to milliseconds (``clock.normalise_time``)."""
    data: dict[str, Any] = field(validator=v.json_object)
    metadata: Metadata = field(factory=Metadata)


@frozen(kw_only=True)
class RecordedEvent(NewEvent):
    """An event as the log holds it: the new event plus where and when it was stored."""

    stream_id: str
    stream_version: int
    """1, 2, 3 … within its stream."""
    position: int
    """Strictly increasing, without gaps, over the whole log (1, 2, 3 …)."""
    recorded_at: datetime
    """The store's clock when the event was appended (UTC, milliseconds)."""


_set = object.__setattr__


def read_back(
    *,
    event_id: UUID,
    type: str,
    schema_version: int,
    occurred_at: datetime,
    data: dict[str, Any],
    metadata: Metadata,
    stream_id: str,
    stream_version: int,
    position: int,
    recorded_at: datetime,
) -> RecordedEvent:
    """Return the :class:`RecordedEvent` of values a store read back, without validating them.

    For the stores' mappers (:mod:`eventstore.stored`) only: every value was validated
    (and ``occurred_at`` normalised) by :class:`NewEvent` when the event was appended,
    and the log never changes, so checking each field again on every read (walking
    every payload string) bought nothing and was a fifth of a catch-up's reading. The
    mapper still refuses what is not in the stored form (unparsable JSON, a payload that
    is no object, a time that is no number). This is the one place that builds a record
    without its validators: the frozen, slotted instance is made with ``object.__new__``
    and its fields set as attrs' own ``__init__`` sets them.
    """
    record = object.__new__(RecordedEvent)
    _set(record, "event_id", event_id)
    _set(record, "type", type)
    _set(record, "schema_version", schema_version)
    _set(record, "occurred_at", occurred_at)
    _set(record, "data", data)
    _set(record, "metadata", metadata)
    _set(record, "stream_id", stream_id)
    _set(record, "stream_version", stream_version)
    _set(record, "position", position)
    _set(record, "recorded_at", recorded_at)
    return record


@frozen(kw_only=True)
class AppendResult:
    """What an append did: the positions of its events and the stream's version after it."""

    positions: tuple[int, ...]
    stream_version: int
    already_stored: bool = False
    """True when every event was stored by an earlier call: nothing new was written."""
