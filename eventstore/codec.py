"""The one mapper between domain events and stored records, and their JSON form.

* :data:`json_converter` (un)structures records and events to JSON-compatible values:
  UUIDs and enums as strings, datetimes as ISO 8601 UTC with milliseconds.
* :class:`Codec` turns a domain event into a :class:`NewEvent` and back, upcasting older
  stored schema versions on the way in, and parses the documented JSON form of an event,
  reporting the first field at fault as :class:`InvalidEventError`.

Structuring is strict: no value is coerced (``"1"`` is not an int, ``1`` is not a bool).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from eventstore.catalog import EVENT_TYPES, DomainEvent, Status, Trigger
from eventstore.clock import normalise_time
from eventstore.errors import InvalidEventError
from eventstore.field_paths import Step
from eventstore.records import Metadata, NewEvent, RecordedEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the ``data`` of schema version N into that of version N + 1."""


def _chunk_of_attempt_one(data: dict[str, Any]) -> dict[str, Any]:
    """``JobLogChunkAppended`` v1 -> v2: chunks written before attempts were named are of 1."""
    return {"attempt": 1, **data}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("JobLogChunkAppended", 1): _chunk_of_attempt_one,
}
"""(type, version N) -> upcaster to N + 1. Add one here whenever a ``SCHEMA_VERSION`` grows."""


def _strict(expected: type, label: str) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and expected is not bool:
            raise TypeError(f"expected {label}, got a boolean")
        if not isinstance(value, expected):
            raise TypeError(f"expected {label}, got {type(value).__name__}")
        return value

    return structure


def _structure_strings(value: Any, _: Any) -> tuple[str, ...]:
    # cattrs would turn a string into a tuple of its characters; a list is required.
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of strings, got {type(value).__name__}")
    return tuple(value)


def _structure_uuid(value: Any, _: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    return UUID(value)


def _structure_datetime(value: Any, _: Any) -> datetime:
    # The path of the field is cattrs' to give: the error names none of its own.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 time (e.g. 2026-01-15T09:30:00.000Z)") from None
    elif not isinstance(value, datetime):
        raise TypeError(f"expected an ISO 8601 time string, got {type(value).__name__}")
    return normalise_time(value, field="")


def _unstructure_datetime(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in cls)
        raise ValueError(f"must be one of {allowed}") from None


def _make_json_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(bool, _strict(bool, "a boolean"))
    converter.register_structure_hook(float, _strict(float, "a number"))
    converter.register_structure_hook_func(
        lambda cls: cls == dict[str, Any], _strict(dict, "a JSON object")
    )
    converter.register_structure_hook_func(lambda cls: cls == tuple[str, ...], _structure_strings)
    converter.register_structure_hook(UUID, _structure_uuid)
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    # Per class: a StrEnum is also a str, and the str hook above would catch it first.
    for vocabulary in (Status, Trigger):
        converter.register_structure_hook(vocabulary, _structure_enum)
        converter.register_unstructure_hook(vocabulary, lambda member: member.value)
    return converter


json_converter = _make_json_converter()
"""(Un)structures records and domain events to and from JSON-compatible values."""


# One encoder for every call: json.dumps with options builds a new encoder each time,
# which was half the cost of encoding a small payload.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dump_json(value: Any) -> str:
    """Return the compact JSON text of a JSON value, as both stores keep payloads."""
    return _ENCODER.encode(value)


def load_json(text: str) -> Any:
    """Return the JSON value :func:`dump_json` wrote."""
    return json.loads(text)


def invalid_from(exc: BaseException, *under: Step) -> InvalidEventError:
    """Translate a structuring failure into an :class:`InvalidEventError` naming its field.

    The path is ``under``, then cattrs' steps down to the first failure, then the path of
    that failure when it is an :class:`InvalidEventError` of its own (an attrs class
    nested in the one structured, such as the envelope's ``metadata``).
    """
    path, leaf = _first_problem(exc)
    if isinstance(leaf, InvalidEventError):
        path = [*path, *leaf.path]
        reason, value = leaf.reason, leaf.value
    elif isinstance(leaf, ForbiddenExtraKeysError):
        path = [*path, sorted(leaf.extra_fields)[0]]
        reason, value = "unknown field", None
    elif isinstance(leaf, KeyError):
        reason, value = "required field is missing", None
    else:
        reason, value = str(leaf), None
    return InvalidEventError((*under, *path), reason, value)


def _first_problem(exc: BaseException) -> tuple[list[Step], BaseException]:
    """Walk cattrs' exception groups down to the first failure and the steps to it."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        inner = exc.exceptions[0]
        step: list[Step] = []
        for note in getattr(inner, "__notes__", []):
            if isinstance(note, AttributeValidationNote):
                step = [note.name]
            elif isinstance(note, IterableValidationNote):
                index = note.index
                step = [index if isinstance(index, int) else str(index)]
        path, leaf = _first_problem(inner)
        return step + path, leaf
    return [], exc


class Codec:
    """Maps domain events to stored records and back, upcasting older schema versions."""

    def __init__(
        self,
        types: Mapping[str, type[DomainEvent]] = EVENT_TYPES,
        upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
    ) -> None:
        self._types = dict(types)
        self._upcasters = dict(upcasters)

    def event_class(self, type_name: str) -> type[DomainEvent]:
        """Return the class stored under ``type_name``; unknown names raise, naming ``type``."""
        try:
            return self._types[type_name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._types))
            raise InvalidEventError(
                "type", f"unknown event type; known: {known}", type_name
            ) from None

    def to_new_event(
        self, event: DomainEvent, *, event_id: UUID, occurred_at: datetime, metadata: Metadata
    ) -> NewEvent:
        """Return the record that stores ``event`` at its current schema version."""
        return NewEvent(
            event_id=event_id,
            type=type(event).__name__,
            schema_version=event.SCHEMA_VERSION,
            occurred_at=occurred_at,
            data=json_converter.unstructure(event),
            metadata=metadata,
        )

    def decode(self, record: NewEvent) -> DomainEvent:
        """Return the domain event a stored record holds, upcast to the current version."""
        cls = self.event_class(record.type)
        data = self._upcast(record.type, record.schema_version, cls.SCHEMA_VERSION, record.data)
        try:
            return json_converter.structure(data, cls)
        except InvalidEventError as exc:
            raise exc.under("data") from None
        except (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError) as exc:
            raise invalid_from(exc, "data") from None

    def parse_new_event(self, raw: object) -> tuple[NewEvent, DomainEvent]:
        """Validate the JSON form of a new event; return the record and its domain event.

        Raises :class:`InvalidEventError` naming the first field at fault (``data.status``,
        ``occurred_at`` …); nothing about a rejected event is kept anywhere.
        """
        if not isinstance(raw, Mapping):
            raise InvalidEventError("", f"expected a JSON object, got {type(raw).__name__}", raw)
        if "type" in raw:
            self.event_class(raw["type"])
        try:
            record = json_converter.structure(dict(raw), NewEvent)
        except InvalidEventError:
            raise
        except (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError) as exc:
            raise invalid_from(exc) from None
        return record, self.decode(record)

    def _upcast(
        self, type_name: str, stored: int, current: int, data: dict[str, Any]
    ) -> dict[str, Any]:
        if stored > current:
            raise InvalidEventError(
                "schema_version",
                f"{type_name} is at version {current} here; this event was written by a newer one",
                stored,
            )
        for version in range(stored, current):
            upcaster = self._upcasters.get((type_name, version))
            if upcaster is None:
                raise InvalidEventError(
                    "schema_version", f"no upcaster from {type_name} v{version}", stored
                )
            data = upcaster(data)
        return data


def recorded_to_json(record: RecordedEvent) -> dict[str, Any]:
    """Return the documented JSON form of a stored event."""
    result: dict[str, Any] = json_converter.unstructure(record)
    return result
