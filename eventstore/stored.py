"""The stored form of events, and the one mapper between it and the records.

A :class:`StoredEvent` is an event as the log keeps it: the envelope, placed in the log,
with its payload already encoded. Its fields are those of
:class:`~eventstore.records.RecordedEvent`, by the same names, in the embedded store's
column order. The functions here are the only code that knows the stored shapes:

* :func:`appended` and :func:`to_recorded` map between records and stored events;
* :func:`to_row` and :func:`from_row` give the embedded store its row, one per event:
  :data:`EVENT_COLUMNS` in order, times as whole milliseconds since the epoch, metadata
  as JSON text;
* :func:`commit_document` and :func:`commit_records` give MongoDB its commit document,
  one per append: its placement and byte totals once, then its events, each with its
  position, times as BSON dates, payload and metadata as sub-documents a MongoDB user
  can query (users' keys escaped reversibly by :mod:`eventstore.bson_values`).

cattrs converters do the (un)structuring. The embedded store keeps each payload as the
JSON text :func:`~eventstore.appending.check_call` encoded once to measure the append.
Logs already written must stay readable, so every shape here is pinned by
``tests/test_stored_shapes.py``; change one only with a migration.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs
import bson
import cattrs
from attrs import frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.bson import make_converter as make_bson_converter

from eventstore import bson_values
from eventstore.clock import from_epoch_millis, to_epoch_millis
from eventstore.codec import dump_json, load_json
from eventstore.errors import InvalidEventError
from eventstore.records import Metadata, NewEvent, RecordedEvent, read_back


class StoredFormError(ValueError):
    """Raised when a row or document is not in the stored form; adapters report a StoreError."""


@frozen(kw_only=True)
class StoredEvent:
    """One event as the log keeps it: the envelope, its place in the log, its payload encoded.

    Built only from validated records, so it checks nothing itself.
    """

    position: int
    event_id: UUID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    data: str
    """The payload as JSON text (:func:`~eventstore.codec.dump_json`)."""
    metadata: Metadata


EVENT_COLUMNS: Final = tuple(field.name for field in attrs.fields(StoredEvent))
"""The columns of the embedded store's ``events`` table, in order."""

_UNREADABLE = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    OverflowError,
    InvalidEventError,
    cattrs.BaseValidationError,
)
"""What decoding a row or document that is not in the stored form can raise."""


def appended(
    stream_id: str,
    events: Sequence[NewEvent],
    payloads: Sequence[str],
    *,
    first_position: int,
    first_version: int,
    recorded_at: datetime,
) -> list[StoredEvent]:
    """Return the stored form of one append: ``events`` numbered from the given position.

    ``payloads`` are the events' ``data`` as JSON text, in the same order.
    """
    return [
        StoredEvent(
            position=first_position + offset,
            event_id=event.event_id,
            stream_id=stream_id,
            stream_version=first_version + offset,
            type=event.type,
            schema_version=event.schema_version,
            occurred_at=event.occurred_at,
            recorded_at=recorded_at,
            data=payload,
            metadata=event.metadata,
        )
        for offset, (event, payload) in enumerate(zip(events, payloads, strict=True))
    ]


def to_recorded(stored: StoredEvent) -> RecordedEvent:
    """Return the record a stored event holds, its payload decoded.

    The record is built without running :class:`NewEvent`'s validators again
    (:func:`~eventstore.records.read_back`): they ran on append. Raises
    :class:`StoredFormError` when the stored payload is not the JSON text of an object.
    """
    try:
        data = json.loads(stored.data, parse_constant=_no_constant)
    except ValueError as exc:
        raise StoredFormError(f"event at position {stored.position}: {exc}") from exc
    if type(data) is not dict:
        detail = f"its payload is no JSON object but {type(data).__name__}"
        raise StoredFormError(f"event at position {stored.position}: {detail}")
    return read_back(
        event_id=stored.event_id,
        type=stored.type,
        schema_version=stored.schema_version,
        occurred_at=stored.occurred_at,
        data=data,
        metadata=stored.metadata,
        stream_id=stored.stream_id,
        stream_version=stored.stream_version,
        position=stored.position,
        recorded_at=stored.recorded_at,
    )


def _no_constant(name: str) -> None:
    """Refuse ``NaN`` and ``Infinity``, which :func:`dump_json` never writes."""
    raise ValueError(f"{name} is not JSON")


@functools.lru_cache(maxsize=4096)
def _metadata_of(text: str) -> Metadata:
    """Return (validated once) the metadata of a row's JSON text.

    The events of one run share their metadata (its correlation id, its actor), and a
    :class:`Metadata` is frozen: the same text gives one shared value, so a read of the
    log builds and checks each distinct metadata once, not once an event.
    """
    return _metadata_from(load_json(text), Metadata)


def _trusted(converter: cattrs.Converter) -> None:
    """Take stored strings and integers as they are: they were checked on append.

    A :class:`Metadata` built from them still checks its fields, once per distinct
    metadata (:func:`_metadata_of`).
    """
    for kind in (str, int):
        converter.register_structure_hook(kind, lambda value, _: value)


def _trusted_kinds(converter: cattrs.Converter) -> cattrs.Converter:
    """Return ``converter`` taking strings and integers as they are, UUIDs from their text."""
    _trusted(converter)
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    return converter


def _make_row_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=False)
    _trusted(converter)
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    converter.register_unstructure_hook(datetime, to_epoch_millis)
    converter.register_structure_hook(datetime, lambda value, _: from_epoch_millis(value))
    # Metadata as JSON text of the same object the commit document holds.
    metadata_fields = make_dict_unstructure_fn(Metadata, converter)
    converter.register_unstructure_hook(Metadata, lambda value: dump_json(metadata_fields(value)))
    converter.register_structure_hook(Metadata, lambda text, _: _metadata_of(text))
    return converter


_metadata_from = make_dict_structure_fn(
    Metadata, _trusted_kinds(cattrs.Converter(detailed_validation=False))
)
_rows = _make_row_converter()
_stored_from_row = make_dict_structure_fn(StoredEvent, _rows)
_metadata_fields = make_dict_unstructure_fn(Metadata, _rows)


@functools.lru_cache(maxsize=1024)
def _metadata_text(metadata: Metadata) -> str:
    """Return ``metadata`` as the JSON text of its row (the object its commit document holds).

    Cached: the events of one run or one append mostly share one frozen metadata value.
    """
    return dump_json(_metadata_fields(metadata))


def to_row(stored: StoredEvent) -> tuple[Any, ...]:
    """Return the embedded store's row of ``stored``: :data:`EVENT_COLUMNS` in order.

    The same row :func:`placed_rows` gives for the same event placed at the same place.
    """
    return (
        stored.position,
        str(stored.event_id),
        stored.stream_id,
        stored.stream_version,
        stored.type,
        stored.schema_version,
        to_epoch_millis(stored.occurred_at),
        to_epoch_millis(stored.recorded_at),
        stored.data,
        _metadata_text(stored.metadata),
    )


UnplacedRow = tuple[str, str, int, int, str, str]
"""The columns of a row that do not depend on where the event is placed: ``event_id``,
``type``, ``schema_version``, ``occurred_at``, ``data``, ``metadata``, in stored form."""


def unplaced_rows(events: Sequence[NewEvent], payloads: Sequence[str]) -> list[UnplacedRow]:
    """Return the columns of each event's row that no placement changes, in stored form.

    ``payloads`` are the events' ``data`` as JSON text, in the same order. Built before
    the write lock is taken, so the lock is held only to number them (:func:`placed_rows`).
    """
    return [
        (
            str(event.event_id),
            event.type,
            event.schema_version,
            to_epoch_millis(event.occurred_at),
            payload,
            _metadata_text(event.metadata),
        )
        for event, payload in zip(events, payloads, strict=True)
    ]


def placed_rows(
    stream_id: str,
    unplaced: Sequence[UnplacedRow],
    *,
    first_position: int,
    first_version: int,
    recorded_at: int,
) -> list[tuple[Any, ...]]:
    """Return the rows of one append: ``unplaced`` numbered from the given position and version.

    ``recorded_at`` is the store's clock in whole milliseconds since the epoch. Each row is
    the one :func:`to_row` gives for the same event, placed the same way.
    """
    return [
        (
            first_position + offset,
            event_id,
            stream_id,
            first_version + offset,
            type_,
            schema_version,
            occurred_at,
            recorded_at,
            data,
            metadata,
        )
        for offset, (event_id, type_, schema_version, occurred_at, data, metadata) in enumerate(
            unplaced
        )
    ]


def from_row(row: Sequence[Any]) -> StoredEvent:
    """Return the stored event a row of :data:`EVENT_COLUMNS` holds.

    Raises :class:`StoredFormError` for a row not in that form.
    """
    try:
        return _stored_from_row(dict(zip(EVENT_COLUMNS, row, strict=True)), StoredEvent)
    except _UNREADABLE as exc:
        where = f"at position {row[0]}" if row else "(empty)"
        raise StoredFormError(f"row {where}: {exc}") from exc


@frozen(kw_only=True)
class _CommitEvent:
    """One event inside a commit document, as a MongoDB user queries it."""

    position: int
    stream_version: int
    event_id: UUID
    type: str
    schema_version: int
    occurred_at: datetime
    data: dict[str, Any]
    """The payload as a BSON-safe document (:func:`eventstore.bson_values.encode`)."""
    metadata: Metadata


@frozen(kw_only=True)
class _Commit:
    """One append as MongoDB keeps it: one document, so it is stored atomically."""

    id: str
    """The ``_id``: :func:`commit_key` of the first position."""
    first: int
    last: int
    stream_id: str
    first_version: int
    last_version: int
    recorded_at: datetime
    log_to: int
    """Bytes of commits in the log up to and including this one (a running total)."""
    stream_to: int
    """Bytes of commits in this stream up to and including this one."""
    events: list[_CommitEvent]


@frozen(kw_only=True)
class CommitPlace:
    """Where a commit goes: its first position and version, and the byte totals before it.

    ``log_from`` and ``stream_from`` are the ``log_to`` and ``stream_to`` of the commits
    before it in the log and in its stream (0 for the first).
    """

    first_position: int
    first_version: int
    log_from: int
    stream_from: int


def commit_key(first_position: int) -> str:
    """Return the ``_id`` of the commit starting at ``first_position``.

    Zero-padded text, so ``_id`` order is position order.
    """
    return f"{first_position:020d}"


def _make_commit_converter() -> cattrs.Converter:
    converter = make_bson_converter(detailed_validation=False)
    _trusted(converter)
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    converter.register_unstructure_hook(
        _Commit, make_dict_unstructure_fn(_Commit, converter, id=override(rename="_id"))
    )
    converter.register_structure_hook(
        _Commit, make_dict_structure_fn(_Commit, converter, id=override(rename="_id"))
    )
    return converter


_commits = _make_commit_converter()


def commit_document(
    stream_id: str, events: Sequence[NewEvent], place: CommitPlace, recorded_at: datetime
) -> dict[str, Any]:
    """Return the commit document of one append: ``events`` placed at ``place``.

    Its ``log_to`` and ``stream_to`` add the document's own encoded size (without them)
    to the totals before it, so a reader can ask for the commits that fill a byte budget.
    """
    commit = _Commit(
        id=commit_key(place.first_position),
        first=place.first_position,
        last=place.first_position + len(events) - 1,
        stream_id=stream_id,
        first_version=place.first_version,
        last_version=place.first_version + len(events) - 1,
        recorded_at=recorded_at,
        log_to=0,
        stream_to=0,
        events=[
            _CommitEvent(
                position=place.first_position + offset,
                stream_version=place.first_version + offset,
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                occurred_at=event.occurred_at,
                data=bson_values.encode(event.data),
                metadata=event.metadata,
            )
            for offset, event in enumerate(events)
        ],
    )
    document: dict[str, Any] = _commits.unstructure(commit)
    size = len(bson.encode(document))
    document["log_to"] = place.log_from + size
    document["stream_to"] = place.stream_from + size
    return document


def commit_header(document: Mapping[str, Any], payload_id: str) -> dict[str, Any]:
    """Return the commit ``document`` without its events, naming where they wait instead.

    The header takes the commit's place (positions, versions, byte totals) in a document
    of constant size; ``payload`` is the ``_id`` of the document holding its events.
    """
    header = {name: value for name, value in document.items() if name != "events"}
    header["payload"] = payload_id
    return header


_PLACE_FIELDS: Final = ("position", "stream_version")


def parked_events(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the events of a commit ``document`` without their place, to wait aside.

    A header that wins a place gives it to them (:func:`commit_from_header`).
    """
    return [
        {name: value for name, value in event.items() if name not in _PLACE_FIELDS}
        for event in document["events"]
    ]


def commit_from_header(header: Mapping[str, Any], parked: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the whole commit a header and its :func:`parked_events` make, each event placed."""
    whole = {name: value for name, value in header.items() if name != "payload"}
    whole["events"] = [
        {
            "position": int(header["first"]) + offset,
            "stream_version": int(header["first_version"]) + offset,
            **event,
        }
        for offset, event in enumerate(parked)
    ]
    return whole


def commit_records(document: Mapping[str, Any]) -> list[RecordedEvent]:
    """Return the events of a commit document, in order.

    Built as :func:`to_recorded` builds them, without :class:`NewEvent`'s validators.
    Raises :class:`StoredFormError` for a document not in the commit form.
    """
    try:
        commit = _commits.structure(document, _Commit)
        return [
            read_back(
                event_id=event.event_id,
                type=event.type,
                schema_version=event.schema_version,
                occurred_at=event.occurred_at,
                data=bson_values.decode(event.data),
                metadata=event.metadata,
                stream_id=commit.stream_id,
                stream_version=event.stream_version,
                position=event.position,
                recorded_at=commit.recorded_at,
            )
            for event in commit.events
        ]
    except _UNREADABLE as exc:
        raise StoredFormError(f"commit {document.get('_id')!r}: {exc}") from exc
