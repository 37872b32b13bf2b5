"""The stored form of events, and the one mapper between it and the records.

A :class:`StoredEvent` is an event as the log keeps it: the envelope, placed in the log,
with its payload already encoded. Its fields are those of
:class:`~eventstore.records.RecordedEvent`, by the same names, in the embedded store's
column order. The functions here are the only code that knows the stored shapes:

* :func:`appended` and :func:`to_recorded` map between records and stored events;
* :func:`to_row` and :func:`from_row` give the embedded store its row, one per event:
  :data:`EVENT_COLUMNS` in order, times as whole milliseconds since the epoch, metadata
  as JSON text;
* :func:`commit_document` and :func:`commit_events` give MongoDB its commit document,
  one per append: its placement once, then its events, times as BSON dates, metadata
  as a sub-document.

cattrs converters do the (un)structuring. Both stores keep each payload as JSON text
(the text :func:`~eventstore.appending.check_call` encoded once to measure the append),
so a change of MongoDB's payload to BSON belongs here alone: in :class:`_CommitEvent`
and the commit converter. Logs already written must stay readable, so every shape here
is pinned by ``tests/test_stored_shapes.py``; change one only with a migration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs
import cattrs
from attrs import frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.bson import make_converter as make_bson_converter

from eventstore.clock import from_epoch_millis, to_epoch_millis
from eventstore.codec import dump_json, load_json
from eventstore.errors import InvalidEventError
from eventstore.records import Metadata, NewEvent, RecordedEvent


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

    Raises :class:`StoredFormError` when the stored payload or envelope is unreadable.
    """
    try:
        return RecordedEvent(
            event_id=stored.event_id,
            type=stored.type,
            schema_version=stored.schema_version,
            occurred_at=stored.occurred_at,
            data=load_json(stored.data),
            metadata=stored.metadata,
            stream_id=stored.stream_id,
            stream_version=stored.stream_version,
            position=stored.position,
            recorded_at=stored.recorded_at,
        )
    except _UNREADABLE as exc:
        raise StoredFormError(f"event at position {stored.position}: {exc}") from exc


def _trusted(converter: cattrs.Converter) -> None:
    """Take stored strings and integers as they are: the records built from them check them."""
    for kind in (str, int):
        converter.register_structure_hook(kind, lambda value, _: value)


def _make_row_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=False)
    _trusted(converter)
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    converter.register_unstructure_hook(datetime, to_epoch_millis)
    converter.register_structure_hook(datetime, lambda value, _: from_epoch_millis(value))
    # Metadata as JSON text of the same object the commit document holds.
    metadata_fields = make_dict_unstructure_fn(Metadata, converter)
    metadata_from = make_dict_structure_fn(Metadata, converter)
    converter.register_unstructure_hook(Metadata, lambda value: dump_json(metadata_fields(value)))
    converter.register_structure_hook(
        Metadata, lambda text, _: metadata_from(load_json(text), Metadata)
    )
    return converter


_rows = _make_row_converter()
_row_fields = make_dict_unstructure_fn(StoredEvent, _rows)
_stored_from_row = make_dict_structure_fn(StoredEvent, _rows)


def to_row(stored: StoredEvent) -> tuple[Any, ...]:
    """Return the embedded store's row of ``stored``: :data:`EVENT_COLUMNS` in order."""
    return tuple(_row_fields(stored).values())


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
    """One event inside a commit document: its envelope; its place is the commit's."""

    event_id: UUID
    type: str
    schema_version: int
    occurred_at: datetime
    data: str
    """JSON text: FerretDB v1 refuses nested arrays and keys like ``$where`` or ``a.b``."""
    metadata: Metadata


_COMMIT_EVENT_FIELDS: Final = tuple(field.name for field in attrs.fields(_CommitEvent))


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
    event_ids: list[str]
    """The events' ids again, so the lookup index is built without decoding events."""
    events: list[_CommitEvent]


def commit_key(first_position: int) -> str:
    """Return the ``_id`` of the commit starting at ``first_position``.

    Zero-padded text, so ``_id`` order is position order and an ``_id`` lookup is the one
    query FerretDB v1 answers without decoding every document.
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


def commit_document(events: Sequence[StoredEvent]) -> dict[str, Any]:
    """Return the commit document of one append's stored events (one stream, in order)."""
    first, last = events[0], events[-1]
    commit = _Commit(
        id=commit_key(first.position),
        first=first.position,
        last=last.position,
        stream_id=first.stream_id,
        first_version=first.stream_version,
        last_version=last.stream_version,
        recorded_at=first.recorded_at,
        event_ids=[str(event.event_id) for event in events],
        events=[
            _CommitEvent(**{name: getattr(event, name) for name in _COMMIT_EVENT_FIELDS})
            for event in events
        ],
    )
    document: dict[str, Any] = _commits.unstructure(commit)
    return document


def commit_events(document: Mapping[str, Any]) -> list[StoredEvent]:
    """Return the stored events of a commit document, in order.

    Raises :class:`StoredFormError` for a document not in the commit form.
    """
    try:
        commit = _commits.structure(document, _Commit)
    except _UNREADABLE as exc:
        raise StoredFormError(f"commit {document.get('_id')!r}: {exc}") from exc
    return [
        StoredEvent(
            **attrs.asdict(event, recurse=False),
            position=commit.first + offset,
            stream_id=commit.stream_id,
            stream_version=commit.first_version + offset,
            recorded_at=commit.recorded_at,
        )
        for offset, event in enumerate(commit.events)
    ]
